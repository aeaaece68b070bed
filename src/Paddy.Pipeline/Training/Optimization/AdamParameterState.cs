using static TorchSharp.torch;

namespace Paddy.Pipeline.Training.Optimization;

/// <summary>Adam's per-parameter state: fastai's grad_avg, sqr_avg (float32) and step count.</summary>
public sealed class AdamParameterState : IDisposable
{
    internal AdamParameterState(Tensor gradAverage, Tensor squareAverage, long step)
    {
        GradAverage = gradAverage;
        SquareAverage = squareAverage;
        Step = step;
    }

    public Tensor GradAverage { get; }
    public Tensor SquareAverage { get; }
    public long Step { get; internal set; }

    public void Dispose()
    {
        GradAverage.Dispose();
        SquareAverage.Dispose();
    }
}
