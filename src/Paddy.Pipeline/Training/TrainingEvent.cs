namespace Paddy.Pipeline.Training;

/// <summary>The points of fastai's training loop at which callbacks run, in the order they fire.</summary>
public enum TrainingEvent
{
    BeforeFit,
    BeforeEpoch,
    BeforeTrain,
    BeforeBatch,
    AfterPred,
    AfterLoss,
    BeforeBackward,
    AfterCancelBackward,
    AfterBackward,
    BeforeStep,
    AfterCancelStep,
    AfterStep,
    AfterCancelBatch,
    AfterBatch,
    AfterCancelTrain,
    AfterTrain,
    BeforeValidate,
    AfterCancelValidate,
    AfterValidate,
    AfterCancelEpoch,
    AfterEpoch,
    AfterCancelFit,
    AfterFit,
}
