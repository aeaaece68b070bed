namespace Paddy.Pipeline.Training.Callbacks;

/// <summary>
/// fastai's ParamScheduler for fit_one_cycle: before every training batch, sets each group's lr and beta1 for
/// the learner's position in the fit. The position moves per batch, also when accumulation skips the step.
/// </summary>
public sealed class OneCycleScheduler(OneCycleSchedule schedule) : Callback
{
    public override void BeforeBatch()
    {
        if (!Learner.Training) return;
        double position = Learner.TrainingPosition;
        var hypers = Learner.Optimizer.Hyperparameters;
        for (int g = 0; g < hypers.Count; g++)
        {
            hypers[g].LearningRate = schedule.LearningRate(g, position);
            hypers[g].Beta1 = schedule.Beta1(position);
        }
    }
}
