using System.Globalization;

namespace Paddy.Pipeline.Device;

/// <summary>
/// How many cores this process may use: the CPUs its affinity mask allows (Cpus_allowed_list in /proc/self/status)
/// capped by its cgroup's CPU quota (cgroup v2 cpu.max, or v1 cpu.cfs_quota_us / cpu.cfs_period_us), rounded up.
/// libtorch's intra-op threads and the decoders are sized by it, so a process on a shared machine does not start
/// more busy threads than it is given cores.
/// </summary>
public static class CpuBudget
{
    private static readonly Lazy<int> Measured = new(Measure);

    /// <summary>The cores this process may use (at least 1).</summary>
    public static int Cores => Measured.Value;

    /// <summary>Counts a Linux CPU list such as "0-3,8,10-11" (12 CPUs: 7).</summary>
    public static int CountCpuList(string list)
    {
        int count = 0;
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var ends = part.Split('-');
            int first = int.Parse(ends[0], CultureInfo.InvariantCulture);
            int last = ends.Length == 2 ? int.Parse(ends[1], CultureInfo.InvariantCulture) : first;
            count += last - first + 1;
        }
        return count;
    }

    /// <summary>Cores allowed by a cgroup quota ("max" or a non-positive quota: no limit), rounded up.</summary>
    public static int? QuotaCores(long quota, long period) =>
        quota > 0 && period > 0 ? (int)Math.Max(1, (quota + period - 1) / period) : null;

    /// <summary>Parses cgroup v2's cpu.max ("max 100000" or "150000 100000").</summary>
    public static int? QuotaCoresFromCpuMax(string cpuMax)
    {
        var fields = cpuMax.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fields.Length != 2 || fields[0] == "max") return null;
        return QuotaCores(long.Parse(fields[0], CultureInfo.InvariantCulture), long.Parse(fields[1], CultureInfo.InvariantCulture));
    }

    private static int Measure()
    {
        int cores = Environment.ProcessorCount;
        if (!OperatingSystem.IsLinux()) return cores;
        var allowed = ReadOrNull("/proc/self/status")?.Split('\n')
            .FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
        if (allowed is not null) cores = CountCpuList(allowed["Cpus_allowed_list:".Length..]);
        var quota = ReadOrNull("/sys/fs/cgroup/cpu.max") is { } cpuMax ? QuotaCoresFromCpuMax(cpuMax)
            : ReadOrNull("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") is { } v1Quota && ReadOrNull("/sys/fs/cgroup/cpu/cpu.cfs_period_us") is { } v1Period
                ? QuotaCores(long.Parse(v1Quota.Trim(), CultureInfo.InvariantCulture), long.Parse(v1Period.Trim(), CultureInfo.InvariantCulture))
                : null;
        return Math.Max(1, Math.Min(cores, quota ?? int.MaxValue));
    }

    private static string? ReadOrNull(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
