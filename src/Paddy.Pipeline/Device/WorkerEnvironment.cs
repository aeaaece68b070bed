using System.Globalization;

namespace Paddy.Pipeline.Device;

/// <summary>
/// The environment a Train worker process starts with (variables libtorch, OpenMP, cuBLAS and .NET read when they
/// load, so they cannot be set from inside the worker):
/// - cuda:N: CUDA_VISIBLE_DEVICES names that one GPU (the worker then uses cuda:0, see <see cref="DeviceSelector"/>),
///   and CUDA_DEVICE_ORDER=PCI_BUS_ID makes CUDA's numbering NVML's, so the memory meter watches the same GPU.
/// - CUBLAS_WORKSPACE_CONFIG=:4096:8: cuBLAS's deterministic workspace, so a rerun on the same GPU repeats its matmuls.
/// - One OpenMP thread per core the process may use (<see cref="CpuBudget"/>), and idle threads that sleep rather than
///   spin (OMP_WAIT_POLICY, GOMP_SPINCOUNT, KMP_BLOCKTIME; .NET's thread pool likewise): spinning threads take the
///   cores that decoding and other processes on a shared machine need.
/// A variable the user has already set in the parent's environment is left as it is (the child inherits it).
/// </summary>
public static class WorkerEnvironment
{
    /// <summary>Tells the worker which CUDA ordinal its CUDA_VISIBLE_DEVICES narrowed to cuda:0.</summary>
    public const string NarrowedDeviceVariable = "PADDY_WORKER_CUDA_DEVICE";

    /// <param name="device">The --device choice (auto, cpu, cuda, cuda:N).</param>
    /// <param name="cores">Cores the worker may use.</param>
    /// <param name="parent">The parent's environment (Environment.GetEnvironmentVariable); its CUDA_VISIBLE_DEVICES, if
    /// any, is what cuda:N counts within.</param>
    public static IReadOnlyDictionary<string, string> For(string device, int cores, Func<string, string?> parent)
    {
        var threads = Math.Max(1, cores).ToString(CultureInfo.InvariantCulture);
        var environment = new Dictionary<string, string>
        {
            ["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8",
            ["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID",
            ["OMP_NUM_THREADS"] = threads,
            ["MKL_NUM_THREADS"] = threads,
            ["OMP_WAIT_POLICY"] = "PASSIVE",
            ["GOMP_SPINCOUNT"] = "0",
            ["KMP_BLOCKTIME"] = "0",
            ["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0",
        };
        foreach (var name in environment.Keys.ToList())
            if (!string.IsNullOrEmpty(parent(name))) environment.Remove(name);
        if (CudaOrdinal(device) is { } ordinal)
        {
            environment["CUDA_VISIBLE_DEVICES"] = PhysicalGpu(ordinal, parent("CUDA_VISIBLE_DEVICES"));
            environment[NarrowedDeviceVariable] = ordinal.ToString(CultureInfo.InvariantCulture);
        }
        return environment;
    }

    /// <summary>The N of "cuda:N", or null for other choices.</summary>
    public static int? CudaOrdinal(string device)
    {
        var choice = device.Trim().ToLowerInvariant();
        return choice.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(choice["cuda:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
    }

    /// <summary>
    /// The GPU (an index in PCI bus order, or a UUID) that CUDA ordinal <paramref name="ordinal"/> means under
    /// <paramref name="visibleDevices"/> (CUDA_VISIBLE_DEVICES; unset: all GPUs).
    /// </summary>
    public static string PhysicalGpu(int ordinal, string? visibleDevices)
    {
        if (string.IsNullOrWhiteSpace(visibleDevices)) return ordinal.ToString(CultureInfo.InvariantCulture);
        var visible = visibleDevices.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (ordinal >= visible.Length)
            throw new ArgumentException(
                $"--device=cuda:{ordinal} asks for GPU {ordinal}, but CUDA_VISIBLE_DEVICES={visibleDevices} shows {visible.Length}; use cuda:0 to cuda:{visible.Length - 1}.");
        return visible[ordinal];
    }
}
