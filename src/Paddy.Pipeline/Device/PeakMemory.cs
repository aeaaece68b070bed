namespace Paddy.Pipeline.Device;

/// <summary>
/// The most memory this process has held on its training device since <see cref="Start"/>. TorchSharp has no
/// torch.cuda.max_memory_allocated, so the CUDA side asks the driver (NVML) and the CPU side the kernel.
/// </summary>
public interface IPeakMemoryMeter : IDisposable
{
    /// <summary>Where the figure comes from, for reports (e.g. "process peak resident memory (VmHWM)").</summary>
    string Source { get; }

    void Start();

    /// <summary>Peak bytes so far, or null when it cannot be measured here.</summary>
    long? PeakBytes { get; }
}

public static class PeakMemory
{
    /// <summary>The meter for a device: NVML for CUDA (when the driver library loads), the kernel's VmHWM for the CPU.</summary>
    public static IPeakMemoryMeter For(TorchSharp.torch.Device device) =>
        device.type == TorchSharp.DeviceType.CUDA
            ? NvmlPeakMemory.Create(WorkerEnvironment.PhysicalGpu(device.index < 0 ? 0 : device.index, Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES")))
            : new ProcessPeakMemory();
}

/// <summary>
/// CPU: the kernel's high-water mark of this process's resident memory (VmHWM in /proc/self/status), which
/// cannot miss a short peak. The mark covers the whole process life; the worker runs one task per process.
/// </summary>
public sealed class ProcessPeakMemory : IPeakMemoryMeter
{
    public string Source => "process peak resident memory (VmHWM)";

    public void Start() { }

    public long? PeakBytes => ReadKilobytes("/proc/self/status", "VmHWM:") * 1024;

    public void Dispose() { }

    internal static long? ReadKilobytes(string statusFile, string field)
    {
        if (!File.Exists(statusFile)) return null;
        foreach (var line in File.ReadLines(statusFile))
        {
            if (!line.StartsWith(field, StringComparison.Ordinal)) continue;
            var number = line[field.Length..].Trim().Split(' ')[0];
            return long.TryParse(number, out var kb) ? kb : null;
        }
        return null;
    }
}
