using Paddy.Pipeline.Training.Checkpoints;

namespace Paddy.Pipeline.Training.Callbacks;

/// <summary>
/// Writes the resume checkpoint at the end of every epoch (after the recorder has logged it), and restores a
/// loaded one when its phase begins (after the other callbacks have reset for the fit, before the table prints).
/// </summary>
internal sealed class CheckpointCallback(CheckpointStore store, string plan, LoadedCheckpoint? resume) : Callback
{
    private LoadedCheckpoint? pending = resume;

    public override int Order => 55;

    public override void BeforeFit()
    {
        if (pending is null || pending.Phase != Learner.Phase) return;
        pending.Restore(Learner);
        pending = null;
    }

    public override void AfterEpoch() => store.Save(Learner, plan);
}
