using System.Runtime.ExceptionServices;
using Cake.Core;

namespace Paddy.Build.Frosting;

/// <summary>A task the host can run: Cake.Frosting's IFrostingTask, which Cake.Frosting would provide.</summary>
public interface IFrostingTask
{
    Task RunAsync(ICakeContext context);

    bool ShouldRun(ICakeContext context);

    /// <summary>Why the task is skipped when <see cref="ShouldRun"/> says no (shown in the report).</summary>
    string SkipReason { get; }

    /// <summary>Frosting's OnError: handle a failure of this task and let the build go on, or rethrow to stop it.</summary>
    void OnError(Exception exception, ICakeContext context);
}

/// <summary>A synchronous task, as Cake.Frosting's FrostingTask&lt;TContext&gt;.</summary>
public abstract class FrostingTask<TContext> : IFrostingTask where TContext : ICakeContext
{
    public virtual void Run(TContext context) { }

    public virtual bool ShouldRun(TContext context) => true;

    public virtual string SkipReason => "criteria not met";

    public virtual void OnError(Exception exception, TContext context) => ExceptionDispatchInfo.Throw(exception);

    void IFrostingTask.OnError(Exception exception, ICakeContext context) => OnError(exception, (TContext)context);

    Task IFrostingTask.RunAsync(ICakeContext context)
    {
        Run((TContext)context);
        return Task.CompletedTask;
    }

    bool IFrostingTask.ShouldRun(ICakeContext context) => ShouldRun((TContext)context);
}

/// <summary>An asynchronous task, as Cake.Frosting's AsyncFrostingTask&lt;TContext&gt;.</summary>
public abstract class AsyncFrostingTask<TContext> : IFrostingTask where TContext : ICakeContext
{
    public virtual Task RunAsync(TContext context) => Task.CompletedTask;

    public virtual bool ShouldRun(TContext context) => true;

    public virtual string SkipReason => "criteria not met";

    public virtual void OnError(Exception exception, TContext context) => ExceptionDispatchInfo.Throw(exception);

    void IFrostingTask.OnError(Exception exception, ICakeContext context) => OnError(exception, (TContext)context);

    Task IFrostingTask.RunAsync(ICakeContext context) => RunAsync((TContext)context);

    bool IFrostingTask.ShouldRun(ICakeContext context) => ShouldRun((TContext)context);
}
