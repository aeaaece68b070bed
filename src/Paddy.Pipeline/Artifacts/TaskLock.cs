using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Paddy.Pipeline.Artifacts;

/// <summary>
/// Keeps two processes from working on one task (training it, probing it, writing its checkpoint) at once.
/// &lt;folder&gt;/&lt;slug&gt;.lock is held open with FileShare.None, which is a kernel lock (flock on Unix, a sharing lock on
/// Windows) that the kernel drops when the holder's process ends, kill -9 included, so a dead holder's lock is simply
/// taken over. On Linux the lock is inherited by the worker processes the holder starts, so a worker left running by
/// a killed parent keeps it until the worker ends too. Beside it, &lt;slug&gt;.holder names the holder (PID, host, start,
/// task) so that a waiter can say whom it waits for. The lock file itself is never deleted: a waiter could otherwise
/// lock a deleted file while a newcomer locks a new one. Not re-entrant: acquiring a lock this process holds is an error.
/// </summary>
public sealed class TaskLock : IDisposable
{
    private const string LockExtension = ".lock";
    private const string HolderExtension = ".holder";
    private static readonly TimeSpan DefaultPoll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ReminderEvery = TimeSpan.FromMinutes(1);
    private static readonly HashSet<string> HeldHere = new(StringComparer.Ordinal);

    private readonly FileStream lockStream;
    private readonly string lockPath;
    private readonly string holderPath;

    private TaskLock(FileStream lockStream, string lockPath, string holderPath)
    {
        this.lockStream = lockStream;
        this.lockPath = lockPath;
        this.holderPath = holderPath;
    }

    /// <summary>Who holds a task's lock; written beside the lock file by its holder.</summary>
    public sealed record Holder(int Pid, string Host, DateTimeOffset Since, string Task)
    {
        public override string ToString() =>
            $"PID {Pid} on host {Host} since {Since.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)}";
    }

    /// <summary>The locks of a pipeline's tasks: artifacts/&lt;name&gt;/locks/.</summary>
    public static string FolderOf(ArtifactStore store) => Path.Combine(store.PipelineDirectory, "locks");

    /// <summary>
    /// Takes the task's lock, waiting (polling every <paramref name="poll"/>, one second by default) while another
    /// process holds it. <paramref name="report"/> hears who holds it when the wait starts, when the holder changes,
    /// once a minute while it lasts, and when a lock left by a process that ended is taken over. Whoever waited must
    /// look again at what it came to do: the holder may have done it meanwhile.
    /// </summary>
    public static TaskLock Acquire(string folder, string slug, string taskName, Action<string> report,
        CancellationToken cancellation, TimeSpan? poll = null)
    {
        Directory.CreateDirectory(folder);
        var lockPath = Path.GetFullPath(Path.Combine(folder, slug + LockExtension));
        var holderPath = Path.Combine(folder, slug + HolderExtension);
        lock (HeldHere)
        {
            if (!HeldHere.Add(lockPath))
                throw new InvalidOperationException($"{taskName}: this process already holds {lockPath}; waiting for itself would never end.");
        }
        try
        {
            var waitedSince = DateTime.UtcNow;
            var lastReport = DateTime.MinValue;
            Holder? lastHolder = null;
            var waited = false;
            while (true)
            {
                if (TryLock(lockPath) is { } stream)
                {
                    var previous = ReadHolder(holderPath);
                    if (previous is not null)
                        report($"{taskName}: took over the lock left by {previous} (that process ended without releasing it).");
                    else if (waited)
                        report($"{taskName}: the lock is free after {(DateTime.UtcNow - waitedSince).TotalSeconds:F0} s of waiting.");
                    WriteHolder(holderPath, new Holder(Environment.ProcessId, Environment.MachineName, DateTimeOffset.UtcNow, taskName));
                    InheritedByChildProcesses(stream);
                    return new TaskLock(stream, lockPath, holderPath);
                }
                var holder = ReadHolder(holderPath);
                if (!waited || holder != lastHolder || DateTime.UtcNow - lastReport >= ReminderEvery)
                {
                    var who = holder is null ? "another process (its holder record is not written yet)" : Describe(holder);
                    var since = waited ? $" (waiting {(DateTime.UtcNow - waitedSince).TotalMinutes:F0} min so far)" : "";
                    report($"waiting for {taskName}: held by {who}{since}; lock file {lockPath}.");
                    lastReport = DateTime.UtcNow;
                    lastHolder = holder;
                }
                waited = true;
                Task.Delay(poll ?? DefaultPoll, cancellation).GetAwaiter().GetResult();
            }
        }
        catch
        {
            lock (HeldHere) HeldHere.Remove(lockPath);
            throw;
        }
    }

    /// <summary>The holder named beside a lock file, or null when none is written (free, or being taken).</summary>
    public static Holder? ReadHolder(string holderPath)
    {
        try
        {
            return JsonSerializer.Deserialize<Holder>(File.ReadAllText(holderPath), ArtifactManifest.Json);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Says the holder is gone first, then lets the kernel lock go, so the next holder's record is never removed.</summary>
    public void Dispose()
    {
        File.Delete(holderPath);
        lockStream.Dispose();
        lock (HeldHere) HeldHere.Remove(lockPath);
    }

    private static FileStream? TryLock(string lockPath)
    {
        try
        {
            return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e.HResult == HeldElsewhere)
        {
            return null;
        }
    }

    /// <summary>
    /// What .NET reports when another handle holds the lock: ERROR_SHARING_VIOLATION on Windows; on Unix the errno of
    /// a refused non-blocking flock, EWOULDBLOCK (11 on Linux, 35 on macOS and the BSDs).
    /// </summary>
    private static readonly int HeldElsewhere = OperatingSystem.IsWindows() ? unchecked((int)0x80070020)
        : OperatingSystem.IsLinux() ? 11
        : 35;

    private static string Describe(Holder holder)
    {
        if (holder.Host != Environment.MachineName || IsRunning(holder.Pid)) return holder.ToString();
        return $"{holder} (that process has ended; a worker process it started still holds the lock)";
    }

    /// <summary>Whether a process of this host still runs (used to tell a dead writer's leftovers from live work).</summary>
    internal static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void WriteHolder(string holderPath, Holder holder)
    {
        // Written whole and renamed into place, so a waiter never reads half a record.
        var temporary = $"{holderPath}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(holder, ArtifactManifest.Json));
        File.Move(temporary, holderPath, overwrite: true);
    }

    /// <summary>
    /// .NET opens files close-on-exec; clearing that flag lets the worker processes started while the lock is held
    /// share it, so killing only the parent (kill -9) does not free a task whose worker still trains.
    /// </summary>
    private static void InheritedByChildProcesses(FileStream stream)
    {
        if (!OperatingSystem.IsLinux()) return;
        var descriptor = (int)stream.SafeFileHandle.DangerousGetHandle();
        if (SetDescriptorFlags(descriptor, FSetFd, 0) != 0)
            throw new IOException($"Could not let worker processes share the lock {stream.Name} (fcntl errno {Marshal.GetLastPInvokeError()}).");
    }

    private const int FSetFd = 2;

    [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static extern int SetDescriptorFlags(int descriptor, int command, int flags);
}
