using Paddy.Pipeline.Config;

namespace Paddy.Pipeline.Jobs;

/// <summary>What a Train task does in this run.</summary>
public enum TrainAction
{
    UpToDate,
    Restore,
    Train,

    /// <summary>Not decidable without doing something the run may not do (a dry run, Status): the reason says what.</summary>
    Undecided,
}

/// <summary>
/// A Train task's decision, made once before any task runs (see <see cref="RunPlanning"/>): its plan with accum: auto
/// resolved, and whether it is up to date, restored from the shared cache, or trained.
/// </summary>
public sealed record TrainDecision(CombinationConfig Configured, PlannedTask? Plan, TrainAction Action, string Reason)
{
    public string TaskName => Configured.TaskName;

    /// <summary>What a dry run says the task would do.</summary>
    public string WouldDo => Action switch
    {
        TrainAction.UpToDate => $"{TaskName}: {Reason}; would skip.",
        TrainAction.Restore => $"{TaskName}: would restore from cache ({Reason}).",
        TrainAction.Train => $"{TaskName}: would train ({Reason}).",
        _ => $"{TaskName}: {Reason}.",
    };
}
