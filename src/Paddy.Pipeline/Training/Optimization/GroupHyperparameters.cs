namespace Paddy.Pipeline.Training.Optimization;

/// <summary>The hyperparameters of one parameter group; schedulers change them between batches.</summary>
public sealed class GroupHyperparameters
{
    public GroupHyperparameters(double learningRate, double beta1, double weightDecay)
    {
        LearningRate = learningRate;
        Beta1 = beta1;
        WeightDecay = weightDecay;
    }

    public double LearningRate { get; set; }

    /// <summary>fastai's "mom": the first-moment decay of Adam.</summary>
    public double Beta1 { get; set; }

    public double WeightDecay { get; set; }
}
