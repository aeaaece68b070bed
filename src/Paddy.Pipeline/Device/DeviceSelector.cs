using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Device;

/// <summary>--device: auto picks CUDA when torch.cuda.is_available(), else the CPU; cpu, cuda and cuda:N are explicit.</summary>
public static class DeviceSelector
{
    public static (torch.Device Device, string Explanation) Select(string choice)
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
            return (new torch.Device(requested), $"device {requested} (as requested)");
        }
        throw new ArgumentException($"--device={choice} is not a device; use auto, cpu, cuda or cuda:N.");
    }
}
