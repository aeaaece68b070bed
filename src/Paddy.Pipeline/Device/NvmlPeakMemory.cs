using System.Globalization;
using System.Runtime.InteropServices;

namespace Paddy.Pipeline.Device;

/// <summary>
/// CUDA: this process's device memory as the driver reports it (NVML, libnvidia-ml.so.1, the library nvidia-smi
/// uses), sampled every 50 ms on a background thread so that the peak of a step is caught. It counts everything the
/// process holds on the GPU: the caching allocator's reserve, cuDNN workspaces and the CUDA context — the figure
/// that decides whether a run fits. The library is loaded only here, when a CUDA device is in use.
/// </summary>
public sealed class NvmlPeakMemory : IPeakMemoryMeter
{
    private const string Library = "libnvidia-ml.so.1";
    private readonly IntPtr device;
    private readonly int processId = Environment.ProcessId;
    private readonly CancellationTokenSource stop = new();
    private Thread? sampler;
    // NVML's NVML_VALUE_NOT_AVAILABLE, which some drivers report as a process's used memory.
    private const ulong NotAvailable = ulong.MaxValue;
    private long peak = -1;
    private long baselineUsed;

    private NvmlPeakMemory(IntPtr device) => this.device = device;

    public string Source => "device memory of this process (NVML, sampled every 50 ms)";

    /// <summary>The peak, or null (unknown) when no sample could be taken.</summary>
    public long? PeakBytes => Interlocked.Read(ref peak) is >= 0 and var bytes ? bytes : null;

    /// <summary>
    /// A meter for <paramref name="gpu"/>: an index in PCI bus order (the worker's CUDA_DEVICE_ORDER) or a GPU UUID, as
    /// CUDA_VISIBLE_DEVICES names it. If NVML cannot be loaded, a meter that says so and measures nothing.
    /// </summary>
    public static IPeakMemoryMeter Create(string gpu)
    {
        try
        {
            Check(nvmlInit_v2(), "nvmlInit");
            IntPtr handle;
            if (uint.TryParse(gpu, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                Check(nvmlDeviceGetHandleByIndex_v2(index, out handle), $"nvmlDeviceGetHandleByIndex({index})");
            else
                Check(nvmlDeviceGetHandleByUUID(gpu, out handle), $"nvmlDeviceGetHandleByUUID({gpu})");
            return new NvmlPeakMemory(handle);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or InvalidOperationException)
        {
            return new Unavailable($"GPU memory cannot be measured: {e.Message} (NVML, {Library}, comes with the NVIDIA driver)");
        }
    }

    public void Start()
    {
        baselineUsed = DeviceUsed() ?? 0;
        sampler = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (UsedByThisProcess() is { } used && used > Interlocked.Read(ref peak)) Interlocked.Exchange(ref peak, used);
                stop.Token.WaitHandle.WaitOne(50);
            }
        }) { IsBackground = true, Name = "nvml-peak-memory" };
        sampler.Start();
    }

    public void Dispose()
    {
        stop.Cancel();
        sampler?.Join();
        nvmlShutdown();
        stop.Dispose();
    }

    /// <summary>
    /// The process's own figure when the driver lists our pid; inside a container whose pid namespace hides it, or when the driver reports the process figure as not available,
    /// the device's used memory above what was used when the meter started.
    /// </summary>
    private long? UsedByThisProcess()
    {
        var processes = new ProcessInfo[64];
        uint count = (uint)processes.Length;
        if (nvmlDeviceGetComputeRunningProcesses_v3(device, ref count, processes) == 0)
        {
            for (int i = 0; i < count; i++)
                if (processes[i].Pid == processId && processes[i].UsedGpuMemory != NotAvailable) return (long)processes[i].UsedGpuMemory;
        }
        return DeviceUsed() is { } used ? Math.Max(0, used - baselineUsed) : null;
    }

    private long? DeviceUsed() =>
        nvmlDeviceGetMemoryInfo(device, out var memory) == 0 ? (long)memory.Used : null;

    private static void Check(int status, string call)
    {
        if (status != 0) throw new InvalidOperationException($"{call} returned NVML error {status}");
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ProcessInfo
    {
        public uint Pid;
        public ulong UsedGpuMemory;
        public uint GpuInstanceId;
        public uint ComputeInstanceId;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MemoryInfo
    {
        public ulong Total;
        public ulong Free;
        public ulong Used;
    }

    [DllImport(Library)] private static extern int nvmlInit_v2();
    [DllImport(Library)] private static extern int nvmlDeviceGetMemoryInfo(IntPtr device, out MemoryInfo memory);
    [DllImport(Library)] private static extern int nvmlShutdown();
    [DllImport(Library)] private static extern int nvmlDeviceGetHandleByIndex_v2(uint index, out IntPtr device);
    [DllImport(Library)] private static extern int nvmlDeviceGetHandleByUUID([MarshalAs(UnmanagedType.LPStr)] string uuid, out IntPtr device);
    [DllImport(Library)] private static extern int nvmlDeviceGetComputeRunningProcesses_v3(IntPtr device, ref uint count, [Out] ProcessInfo[] infos);

    private sealed class Unavailable(string reason) : IPeakMemoryMeter
    {
        public string Source => reason;
        public void Start() { }
        public long? PeakBytes => null;
        public void Dispose() { }
    }
}
