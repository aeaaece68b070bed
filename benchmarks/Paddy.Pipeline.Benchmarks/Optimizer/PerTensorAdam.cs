using Paddy.Pipeline.Models;
using Paddy.Pipeline.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Benchmarks.Optimizer;

/// <summary>
/// The baseline the flat <see cref="FastaiAdam"/> replaced: the same fastai Adam arithmetic, tensor by tensor (about
/// nine operations per parameter tensor), kept here only to be timed against it.
/// </summary>
internal sealed class PerTensorAdam(IReadOnlyList<ParameterGroup> groups, double learningRate, double beta1, double weightDecay) : IDisposable
{
    private readonly Dictionary<string, (Tensor GradAverage, Tensor SquareAverage)> state = new();
    private long step;

    public void Step()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        step++;
        using var decay = (1 - learningRate * weightDecay).ToScalar();
        using var beta1Scalar = beta1.ToScalar();
        using var gradWeight = (1 - beta1).ToScalar();
        using var beta2 = FastaiAdam.Beta2.ToScalar();
        using var squareWeight = (1 - FastaiAdam.Beta2).ToScalar();
        using var debias2 = (1 - Math.Pow(FastaiAdam.Beta2, step)).ToScalar();
        using var eps = FastaiAdam.Eps.ToScalar();
        using var stepSize = (-learningRate / (1 - Math.Pow(beta1, step))).ToScalar();
        foreach (var trainable in groups.SelectMany(g => g.Parameters))
        {
            var parameter = trainable.Parameter;
            if (parameter.grad is not { } grad) continue;
            if (!trainable.ExemptFromWeightDecay) parameter.mul_(decay);
            if (!state.TryGetValue(trainable.Name, out var s))
                state[trainable.Name] = s = (zeros_like(parameter).DetachFromDisposeScope(), zeros_like(parameter).DetachFromDisposeScope());
            s.GradAverage.mul_(beta1Scalar).add_(grad, alpha: gradWeight);
            s.SquareAverage.mul_(beta2).addcmul_(grad, grad, value: squareWeight);
            var denominator = s.SquareAverage.div(debias2).sqrt_().add_(eps);
            parameter.addcdiv_(s.GradAverage, denominator, value: stepSize);
        }
    }

    public void Dispose()
    {
        foreach (var (m, v) in state.Values)
        {
            m.Dispose();
            v.Dispose();
        }
    }
}
