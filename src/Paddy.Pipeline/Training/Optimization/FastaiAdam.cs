using Paddy.Pipeline.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Training.Optimization;

/// <summary>
/// fastai's Adam (weight_decay, average_grad with dampening, average_sqr_grad, step_stat, adam_step), not
/// torch's AdamW: eps is added after the square root, bias correction uses the beta1 of the current step,
/// and decoupled weight decay skips norm parameters and biases. Frozen parameters are neither stepped nor decayed.
/// </summary>
public sealed class FastaiAdam : IDisposable
{
    public const double Beta2 = 0.99;
    public const double Eps = 1e-5;
    private const double InitialLearningRate = 1e-3;
    private const double InitialBeta1 = 0.9;

    private readonly Dictionary<string, AdamParameterState> state = new();

    public FastaiAdam(IReadOnlyList<ParameterGroup> groups, double weightDecay)
    {
        Groups = groups;
        Hyperparameters = groups.Select(_ => new GroupHyperparameters(InitialLearningRate, InitialBeta1, weightDecay)).ToList();
    }

    public IReadOnlyList<ParameterGroup> Groups { get; }

    /// <summary>One entry per group, in group order.</summary>
    public IReadOnlyList<GroupHyperparameters> Hyperparameters { get; }

    /// <summary>State by parameter name; a parameter has state once it has been stepped.</summary>
    public IReadOnlyDictionary<string, AdamParameterState> State => state;

    public void Step()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (int g = 0; g < Groups.Count; g++)
        {
            var hyper = Hyperparameters[g];
            foreach (var trainable in Groups[g].Parameters)
            {
                var parameter = trainable.Parameter;
                if (!parameter.requires_grad || parameter.grad is not { } grad) continue;
                if (!trainable.ExemptFromWeightDecay && hyper.WeightDecay != 0)
                    parameter.mul_(1 - hyper.LearningRate * hyper.WeightDecay);
                var s = StateOf(trainable);
                double beta1 = hyper.Beta1;
                s.GradAverage.mul_(beta1).add_(grad, alpha: 1 - beta1);
                s.SquareAverage.mul_(Beta2).addcmul_(grad, grad, value: 1 - Beta2);
                s.Step++;
                double debias1 = Debias(beta1, s.Step);
                double debias2 = Debias(Beta2, s.Step);
                var denominator = s.SquareAverage.div(debias2).sqrt_().add_(Eps);
                parameter.addcdiv_(s.GradAverage, denominator, value: -hyper.LearningRate / debias1);
            }
        }
    }

    /// <summary>Zeroes gradients in place (fastai keeps the tensors, as its zero_grad does).</summary>
    public void ZeroGrad()
    {
        using var scope = NewDisposeScope();
        foreach (var trainable in Groups.SelectMany(g => g.Parameters))
            trainable.Parameter.grad?.zero_();
    }

    /// <summary>Gradients of the parameters the next step would update.</summary>
    public IEnumerable<Tensor> StepGradients() =>
        Groups.SelectMany(g => g.Parameters)
            .Where(t => t.Parameter.requires_grad)
            .Select(t => t.Parameter.grad)
            .OfType<Tensor>();

    /// <summary>Forgets moments and step counts (fastai's clear_state, called by freeze and unfreeze).</summary>
    public void ClearState()
    {
        foreach (var s in state.Values) s.Dispose();
        state.Clear();
    }

    /// <summary>Replaces the state of one parameter, from a checkpoint; the tensors are copied.</summary>
    public void RestoreState(string parameterName, Tensor gradAverage, Tensor squareAverage, long step)
    {
        var trainable = Groups.SelectMany(g => g.Parameters).FirstOrDefault(t => t.Name == parameterName)
            ?? throw new ArgumentException($"No parameter named '{parameterName}' in the optimizer's groups.", nameof(parameterName));
        var parameter = trainable.Parameter;
        foreach (var (what, tensor) in new[] { ("grad_avg", gradAverage), ("sqr_avg", squareAverage) })
            if (!tensor.shape.SequenceEqual(parameter.shape))
                throw new ArgumentException(
                    $"Adam {what} for '{parameterName}' has shape [{string.Join(",", tensor.shape)}] but the parameter has [{string.Join(",", parameter.shape)}].");
        if (state.Remove(parameterName, out var old)) old.Dispose();
        state[parameterName] = new AdamParameterState(
            gradAverage.to(ScalarType.Float32, parameter.device, copy: true).DetachFromDisposeScope(),
            squareAverage.to(ScalarType.Float32, parameter.device, copy: true).DetachFromDisposeScope(),
            step);
    }

    public void Dispose() => ClearState();

    private AdamParameterState StateOf(TrainableParameter trainable)
    {
        if (state.TryGetValue(trainable.Name, out var s)) return s;
        var p = trainable.Parameter;
        s = new AdamParameterState(
            zeros_like(p, dtype: ScalarType.Float32).DetachFromDisposeScope(),
            zeros_like(p, dtype: ScalarType.Float32).DetachFromDisposeScope(),
            0);
        state[trainable.Name] = s;
        return s;
    }

    // fastai's debias(mom, damp, step) with damp = 1 - mom, kept in its form so the doubles match.
    private static double Debias(double beta, long step) => (1 - beta) * (1 - Math.Pow(beta, step)) / (1 - beta);
}
