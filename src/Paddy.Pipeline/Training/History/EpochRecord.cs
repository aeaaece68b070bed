namespace Paddy.Pipeline.Training.History;

/// <summary>
/// One row of fastai's epoch table, plus the lr and beta1 of each group at the epoch's last training batch.
/// TrainLoss is fastai's smoothed loss at the epoch's end; ValidLoss and ErrorRate are means over validation samples.
/// </summary>
public sealed record EpochRecord(
    TrainingPhase Phase,
    int Epoch,
    double TrainLoss,
    double ValidLoss,
    double ErrorRate,
    double Seconds,
    IReadOnlyList<double> LearningRates,
    IReadOnlyList<double> Beta1s);

/// <summary>The lr and beta1 of each group used for one training batch.</summary>
public sealed record ScheduleRecord(
    TrainingPhase Phase,
    int Epoch,
    int Iteration,
    IReadOnlyList<double> LearningRates,
    IReadOnlyList<double> Beta1s);
