using System.Diagnostics;
using Paddy.Pipeline.Artifacts;

namespace Paddy.Pipeline.Tests.Artifacts;

/// <summary>Real processes contending for one task's lock; the holder is killed with SIGKILL, as the OOM killer would.</summary>
[Collection(nameof(ContendingProcessCollection))]
public sealed class TaskLockTests : IDisposable
{
    private const string Slug = "convnext_atto_squish-32x32_32x32";
    private const string Task = "Train:convnext_atto:squish-32x32:32x32";
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(60);
    private readonly TestDirectory directory = new();

    public void Dispose() => directory.Dispose();

    private string Locks => Path.Combine(directory.Path, "locks");

    [Fact]
    public void The_second_process_waits_naming_the_holder_and_takes_the_lock_over_once_the_holder_is_killed()
    {
        using var holder = ContendingProcess.Start("hold-task-lock", Locks, Slug, Task);
        holder.WaitForLine(line => line == ContendingProcess.Holding, Startup);
        using var waiter = ContendingProcess.Start("wait-task-lock", Locks, Slug, Task);

        var waiting = waiter.WaitForLine(line => line.StartsWith("waiting for", StringComparison.Ordinal), Startup);
        Assert.StartsWith($"waiting for {Task}: held by PID {holder.Process.Id} on host {Environment.MachineName} since ", waiting);
        Thread.Sleep(TimeSpan.FromSeconds(1));
        Assert.DoesNotContain(ContendingProcess.Acquired, waiter.Lines);

        var holderPid = holder.Process.Id;
        holder.Process.Kill();
        waiter.WaitForLine(line => line == ContendingProcess.Acquired, Startup);
        Assert.True(waiter.Process.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, waiter.Process.ExitCode);
        Assert.Contains(waiter.Lines, line => line.StartsWith($"{Task}: took over the lock left by PID {holderPid} on host {Environment.MachineName}", StringComparison.Ordinal));
        // The waiter released it properly: no holder is named any more, and the lock is free for this process.
        Assert.Null(TaskLock.ReadHolder(Path.Combine(Locks, Slug + ".holder")));
        using var again = TaskLock.Acquire(Locks, Slug, Task, message => Assert.Fail($"nothing to report, but: {message}"), CancellationToken.None);
    }

    [Fact]
    public void A_worker_process_started_by_a_killed_holder_keeps_the_lock_until_it_ends_too()
    {
        using var holder = ContendingProcess.Start("hold-task-lock", Locks, Slug, Task, "--with-child");
        var child = int.Parse(holder.WaitForLine(line => line.StartsWith(ContendingProcess.ChildPrefix, StringComparison.Ordinal), Startup)[ContendingProcess.ChildPrefix.Length..],
            System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            holder.Process.Kill();
            Assert.True(holder.Process.WaitForExit(TimeSpan.FromSeconds(10)));
            using var waiter = ContendingProcess.Start("wait-task-lock", Locks, Slug, Task);
            var waiting = waiter.WaitForLine(line => line.StartsWith("waiting for", StringComparison.Ordinal), Startup);
            Assert.Contains($"held by PID {holder.Process.Id} on host {Environment.MachineName}", waiting);
            Assert.Contains("that process has ended; a worker process it started still holds the lock", waiting);
            Thread.Sleep(TimeSpan.FromSeconds(1));
            Assert.DoesNotContain(ContendingProcess.Acquired, waiter.Lines);

            Process.GetProcessById(child).Kill();
            waiter.WaitForLine(line => line == ContendingProcess.Acquired, Startup);
        }
        finally
        {
            try { Process.GetProcessById(child).Kill(); }
            catch (ArgumentException) { /* already ended */ }
        }
    }

    [Fact]
    public void Acquiring_a_lock_this_process_already_holds_is_an_error_rather_than_an_endless_wait()
    {
        using var held = TaskLock.Acquire(Locks, Slug, Task, _ => { }, CancellationToken.None);
        var error = Assert.Throws<InvalidOperationException>(() => TaskLock.Acquire(Locks, Slug, Task, _ => { }, CancellationToken.None));
        Assert.Contains("already holds", error.Message);
        var holder = TaskLock.ReadHolder(Path.Combine(Locks, Slug + ".holder"));
        Assert.Equal(Environment.ProcessId, holder?.Pid);
        Assert.Equal(Task, holder?.Task);
    }
}

/// <summary>Tests that start processes contending for one resource: one at a time, so their timings stay meaningful on two cores.</summary>
[CollectionDefinition(nameof(ContendingProcessCollection), DisableParallelization = true)]
public sealed class ContendingProcessCollection;
