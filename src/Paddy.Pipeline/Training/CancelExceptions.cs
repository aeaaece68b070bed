namespace Paddy.Pipeline.Training;

/// <summary>
/// fastai's control-flow exceptions: a callback throws one to skip the rest of a stage; the learner then fires
/// that stage's AfterCancel event and its After event, and carries on with the next stage.
/// </summary>
public abstract class CancelStageException : Exception
{
    protected CancelStageException(string stage) : base($"The {stage} was cancelled by a callback.") { }
}

public sealed class CancelFitException() : CancelStageException("fit");

public sealed class CancelEpochException() : CancelStageException("epoch");

public sealed class CancelTrainException() : CancelStageException("training pass");

public sealed class CancelValidateException() : CancelStageException("validation pass");

public sealed class CancelBatchException() : CancelStageException("batch");

public sealed class CancelBackwardException() : CancelStageException("backward pass");

public sealed class CancelStepException() : CancelStageException("optimizer step");
