using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Device;

/// <summary>
/// --device: auto picks CUDA when torch.cuda.is_available(), else the CPU; cpu, cuda and cuda:N are explicit. A worker
/// started for cuda:N sees only that GPU (<see cref="WorkerEnvironment"/>) and uses it as cuda:0, since TorchSharp
/// 0.107 has no set_device. Selecting also sets the process-wide torch settings for the device: intra-op threads to
/// the cores the process may use, and TF32 for float32 matmuls and convolutions on CUDA.
/// </summary>
public static class DeviceSelector
{
    public static (torch.Device Device, string Explanation) Select(string choice)
    {
        var (device, explanation) = Choose(choice);
        Configure(device);
        return (device, explanation);
    }

    private static (torch.Device Device, string Explanation) Choose(string choice)
    {
        var requested = choice.Trim().ToLowerInvariant();
        if (requested == "auto")
        {
            return cuda.is_available()
                ? (CUDA, $"device auto: CUDA is available ({cuda.device_count()} GPU(s)); using cuda:0")
                : (CPU, "device auto: CUDA is not available (CPU build of libtorch, or no GPU); using the CPU");
        }
        if (requested == "cpu") return (CPU, "device cpu (as requested)");
        if (requested == "cuda" || requested.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
                throw new InvalidOperationException(
                    $"--device={choice} asks for CUDA, but it is not available here. Build with -p:TorchBackend=cuda on a machine with an NVIDIA GPU, or use --device=cpu.");
            if (WorkerEnvironment.CudaOrdinal(requested) is { } ordinal
                && Environment.GetEnvironmentVariable(WorkerEnvironment.NarrowedDeviceVariable) == ordinal.ToString(CultureInfo.InvariantCulture))
                return (new torch.Device("cuda:0"),
                    $"device {requested} (as requested; this worker sees only that GPU, CUDA_VISIBLE_DEVICES={Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES")}, as cuda:0)");
            return (new torch.Device(requested), $"device {requested} (as requested)");
        }
        throw new ArgumentException($"--device={choice} is not a device; use auto, cpu, cuda or cuda:N.");
    }

    private static void Configure(torch.Device device)
    {
        set_num_threads(CpuBudget.Cores);
        if (device.type != DeviceType.CUDA) return;
        backends.cuda.matmul.allow_tf32 = true;
        backends.cudnn.allow_tf32 = true;
    }
}
