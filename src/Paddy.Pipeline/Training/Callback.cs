namespace Paddy.Pipeline.Training;

/// <summary>
/// A piece of training behaviour that reacts to the learner's events (fastai's Callback). Callbacks run in
/// ascending <see cref="Order"/>, ties in the order they were added, and read or change the learner's state.
/// </summary>
public abstract class Callback
{
    private Learner? learner;

    /// <summary>The learner this callback is attached to.</summary>
    protected Learner Learner => learner ?? throw new InvalidOperationException($"{GetType().Name} is not attached to a learner.");

    public virtual int Order => 0;

    internal void Attach(Learner owner)
    {
        if (learner is not null && !ReferenceEquals(learner, owner))
            throw new InvalidOperationException($"{GetType().Name} is already attached to another learner; create one per learner.");
        learner = owner;
    }

    internal void Handle(TrainingEvent trainingEvent)
    {
        switch (trainingEvent)
        {
            case TrainingEvent.BeforeFit: BeforeFit(); break;
            case TrainingEvent.BeforeEpoch: BeforeEpoch(); break;
            case TrainingEvent.BeforeTrain: BeforeTrain(); break;
            case TrainingEvent.BeforeBatch: BeforeBatch(); break;
            case TrainingEvent.AfterPred: AfterPred(); break;
            case TrainingEvent.AfterLoss: AfterLoss(); break;
            case TrainingEvent.BeforeBackward: BeforeBackward(); break;
            case TrainingEvent.AfterCancelBackward: AfterCancelBackward(); break;
            case TrainingEvent.AfterBackward: AfterBackward(); break;
            case TrainingEvent.BeforeStep: BeforeStep(); break;
            case TrainingEvent.AfterCancelStep: AfterCancelStep(); break;
            case TrainingEvent.AfterStep: AfterStep(); break;
            case TrainingEvent.AfterCancelBatch: AfterCancelBatch(); break;
            case TrainingEvent.AfterBatch: AfterBatch(); break;
            case TrainingEvent.AfterCancelTrain: AfterCancelTrain(); break;
            case TrainingEvent.AfterTrain: AfterTrain(); break;
            case TrainingEvent.BeforeValidate: BeforeValidate(); break;
            case TrainingEvent.AfterCancelValidate: AfterCancelValidate(); break;
            case TrainingEvent.AfterValidate: AfterValidate(); break;
            case TrainingEvent.AfterCancelEpoch: AfterCancelEpoch(); break;
            case TrainingEvent.AfterEpoch: AfterEpoch(); break;
            case TrainingEvent.AfterCancelFit: AfterCancelFit(); break;
            case TrainingEvent.AfterFit: AfterFit(); break;
            default: throw new ArgumentOutOfRangeException(nameof(trainingEvent), trainingEvent, "Unknown training event.");
        }
    }

    public virtual void BeforeFit() { }
    public virtual void BeforeEpoch() { }
    public virtual void BeforeTrain() { }
    public virtual void BeforeBatch() { }
    public virtual void AfterPred() { }
    public virtual void AfterLoss() { }
    public virtual void BeforeBackward() { }
    public virtual void AfterCancelBackward() { }
    public virtual void AfterBackward() { }
    public virtual void BeforeStep() { }
    public virtual void AfterCancelStep() { }
    public virtual void AfterStep() { }
    public virtual void AfterCancelBatch() { }
    public virtual void AfterBatch() { }
    public virtual void AfterCancelTrain() { }
    public virtual void AfterTrain() { }
    public virtual void BeforeValidate() { }
    public virtual void AfterCancelValidate() { }
    public virtual void AfterValidate() { }
    public virtual void AfterCancelEpoch() { }
    public virtual void AfterEpoch() { }
    public virtual void AfterCancelFit() { }
    public virtual void AfterFit() { }
}
