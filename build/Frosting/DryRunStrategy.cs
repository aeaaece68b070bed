using Cake.Core;
using Cake.Core.Diagnostics;

namespace Paddy.Build.Frosting;

/// <summary>
/// A dry run: the lifetime's Setup and Teardown run (they decide and say what would happen, and must do nothing), task
/// criteria are asked, and each task that would run is listed instead of run. Cake's own dry-run strategy skips Setup.
/// </summary>
public sealed class DryRunStrategy(ICakeLog log) : IExecutionStrategy
{
    private int counter = 1;

    public void PerformSetup(Action<ISetupContext> action, ISetupContext context) => action(context);

    public void PerformTeardown(Action<ITeardownContext> action, ITeardownContext context) => action(context);

    public Task ExecuteAsync(CakeTask task, ICakeContext context)
    {
        log.Information($"{counter++}. {task.Name}");
        return Task.CompletedTask;
    }

    public void Skip(CakeTask task, CakeTaskCriteria criteria) =>
        log.Information($"   {task.Name}: would be skipped ({criteria.Message ?? "criteria not met"}).");

    public Task ReportErrorsAsync(Func<Exception, Task> action, Exception exception) => Task.CompletedTask;

    public Task HandleErrorsAsync(Func<Exception, ICakeContext, Task> action, Exception exception, ICakeContext context) => Task.CompletedTask;

    public Task InvokeFinallyAsync(Func<ICakeContext, Task> action, ICakeContext context) => Task.CompletedTask;

    public void PerformTaskSetup(Action<ITaskSetupContext> action, ITaskSetupContext taskSetupContext) { }

    public void PerformTaskTeardown(Action<ITaskTeardownContext> action, ITaskTeardownContext taskTeardownContext) { }
}
