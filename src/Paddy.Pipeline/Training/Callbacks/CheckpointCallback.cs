using Paddy.Pipeline.Training.Checkpoints;
using Paddy.Pipeline.Training.History;

namespace Paddy.Pipeline.Training.Callbacks;

/// <summary>
/// Makes an interrupted training resumable: writes the work folder's checkpoint at the end of every epoch (after
/// the recorder has logged it) and, when a checkpoint of the same <paramref name="plan"/> is already there, resumes
/// it: fits it had finished are skipped whole, and the fit it was in is restored when it begins (after the other
/// callbacks have reset for the fit, before the table prints) and continues after its last finished epoch. The
/// result is bitwise the one of an uninterrupted run. The plan names everything the training depends on; a
/// checkpoint of another plan is refused.
/// </summary>
public sealed class CheckpointCallback : Callback, IDisposable
{
    private readonly CheckpointStore store;
    private readonly string plan;
    private LoadedCheckpoint? pending;

    public CheckpointCallback(string workFolder, string plan)
    {
        store = new CheckpointStore(workFolder);
        this.plan = plan;
        pending = store.LoadIfPresent(plan);
    }

    public override int Order => 55;

    public string FilePath => store.FilePath;

    /// <summary>What the run resumes from, for the log ("2 unfrozen epoch(s)"); null when it starts afresh.</summary>
    public string? Resuming => pending is null ? null : $"{pending.EpochsDone} {TrainingHistory.PhaseName(pending.Phase)} epoch(s) already done";

    public override void BeforeFit()
    {
        if (pending is null) return;
        if (pending.EpochsBeforeFit >= Learner.EpochsBeforeFit + Learner.EpochCount) throw new CancelFitException();
        if (pending.EpochsBeforeFit != Learner.EpochsBeforeFit || pending.Phase != Learner.Phase)
            throw new InvalidOperationException(
                $"{FilePath} was written in the {TrainingHistory.PhaseName(pending.Phase)} fit that began after epoch {pending.EpochsBeforeFit}, which this run does not have. Delete it to restart this task.");
        pending.Restore(Learner);
        Learner.Epoch = pending.EpochsDone;
        Dispose();
    }

    public override void AfterEpoch() => store.Save(Learner, plan);

    /// <summary>Deletes the checkpoint; call it once the trained model has been saved elsewhere.</summary>
    public void Delete() => store.Delete();

    public void Dispose()
    {
        pending?.Dispose();
        pending = null;
    }
}
