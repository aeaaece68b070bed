using Paddy.Pipeline.Device;
using Paddy.Pipeline.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Training.Optimization;

/// <summary>
/// fastai's Adam (weight_decay, average_grad with dampening, average_sqr_grad, step_stat, adam_step), not
/// torch's AdamW: eps is added after the square root, bias correction uses the beta1 of the current step,
/// and decoupled weight decay skips norm parameters and biases. Frozen parameters are neither stepped nor decayed.
/// At the first step after a state reset each group's trainable parameters (those with a gradient) move into flat
/// buffers (<see cref="FlatGroup"/>): from then on their values and gradients are views of those buffers, and a step
/// is five operations per group plus four per <see cref="DenominatorChunkElements"/> values, whatever the number of tensors. Replace a gradient tensor only before that
/// step; in-place changes (backward's accumulation, zeroing, unscaling) are what the buffers expect.
/// </summary>
public sealed class FastaiAdam : IDisposable
{
    public const double Beta2 = 0.99;
    public const double Eps = 1e-5;
    private const double InitialLearningRate = 1e-3;
    private const double InitialBeta1 = 0.9;

    /// <summary>
    /// The denominator sqrt(v / debias2) + eps is a temporary as large as what it covers: computed over at most this
    /// many values at a time (64 MB of float32), it costs a few operations more per step on a large model instead of
    /// a whole model's worth of memory at the step's peak.
    /// </summary>
    public const long DenominatorChunkElements = 1L << 24;

    private readonly Dictionary<string, AdamParameterState> state = new();
    private FlatGroup?[]? flat;

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
        var groups = FlatGroups();
        for (int g = 0; g < groups.Length; g++)
            if (groups[g] is { } group) StepGroup(group, Hyperparameters[g]);
    }

    /// <summary>Zeroes gradients in place (fastai keeps the tensors, as its zero_grad does).</summary>
    public void ZeroGrad()
    {
        using var scope = NewDisposeScope();
        var stepped = new HashSet<string>();
        foreach (var group in flat ?? [])
        {
            if (group is null) continue;
            group.Gradients.zero_();
            foreach (var member in group.Members) stepped.Add(member.Name);
        }
        foreach (var trainable in Groups.SelectMany(g => g.Parameters))
            if (!stepped.Contains(trainable.Name)) trainable.Parameter.grad?.zero_();
    }

    /// <summary>
    /// The gradients the next step would use, as one flat buffer per group (the loss scaler unscales and checks
    /// them in a few operations).
    /// </summary>
    public IReadOnlyList<Tensor> StepGradients() => FlatGroups().OfType<FlatGroup>().Select(g => g.Gradients).ToList();

    /// <summary>Forgets moments and step counts (fastai's clear_state, called by freeze and unfreeze).</summary>
    public void ClearState()
    {
        foreach (var s in state.Values) s.Dispose();
        state.Clear();
        foreach (var group in flat ?? []) group?.Dispose();
        flat = null;
    }

    /// <summary>Replaces the state of one parameter, from a checkpoint; the tensors are copied.</summary>
    public void RestoreState(string parameterName, Tensor gradAverage, Tensor squareAverage, long step)
    {
        if (flat is not null)
            throw new InvalidOperationException($"Adam state for '{parameterName}' can only be restored after ClearState, before the next step.");
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

    private void StepGroup(FlatGroup group, GroupHyperparameters hyper)
    {
        // Every Scalar is held by a using for the whole native call: an implicitly converted one can be finalised
        // while libtorch still reads it (TorchSharp 0.107).
        if (hyper.WeightDecay != 0 && group.DecayedElements > 0)
        {
            using var decay = (1 - hyper.LearningRate * hyper.WeightDecay).ToScalar();
            group.Parameters.narrow(0, 0, group.DecayedElements).mul_(decay);
        }
        double beta1 = hyper.Beta1;
        using var beta1Scalar = beta1.ToScalar();
        using var gradWeight = (1 - beta1).ToScalar();
        using var beta2Scalar = Beta2.ToScalar();
        using var squareWeight = (1 - Beta2).ToScalar();
        group.GradAverage.mul_(beta1Scalar).add_(group.Gradients, alpha: gradWeight);
        group.SquareAverage.mul_(beta2Scalar).addcmul_(group.Gradients, group.Gradients, value: squareWeight);
        long step = 0;
        foreach (var member in group.Members) step = ++state[member.Name].Step;
        using var debias2 = Debias(Beta2, step).ToScalar();
        using var eps = Eps.ToScalar();
        using var stepSize = (-hyper.LearningRate / Debias(beta1, step)).ToScalar();
        long total = group.Parameters.shape[0];
        for (long start = 0; start < total; start += DenominatorChunkElements)
        {
            using var chunk = NewDisposeScope();
            long n = Math.Min(DenominatorChunkElements, total - start);
            var denominator = group.SquareAverage.narrow(0, start, n).div(debias2).sqrt_().add_(eps, HeldScalars.One);
            group.Parameters.narrow(0, start, n).addcdiv_(group.GradAverage.narrow(0, start, n), denominator, value: stepSize);
        }
    }

    /// <summary>The flat buffers of each group (null where nothing in the group has a gradient), made on first use.</summary>
    private FlatGroup?[] FlatGroups()
    {
        if (flat is not null) return flat;
        using var scope = NewDisposeScope();
        flat = new FlatGroup?[Groups.Count];
        for (int g = 0; g < Groups.Count; g++)
        {
            var stepped = Groups[g].Parameters.Where(HasGradient).ToList();
            if (stepped.Count == 0) continue;
            // Decayed parameters first: weight decay becomes one operation on the front of the buffer.
            var members = stepped.Where(t => !t.ExemptFromWeightDecay).Concat(stepped.Where(t => t.ExemptFromWeightDecay)).ToList();
            var steps = members.Select(m => state.TryGetValue(m.Name, out var s) ? s.Step : 0).Distinct().ToList();
            if (steps.Count > 1)
                throw new InvalidOperationException(
                    $"The restored Adam state of group '{Groups[g].Name}' has different step counts ({string.Join(", ", steps)}); a group's parameters are stepped together, so a checkpoint holds one count per group. Delete the checkpoint to start afresh.");
            var (group, moments) = FlatGroup.Create(Groups[g].Name, members, m => state.GetValueOrDefault(m.Name));
            for (int i = 0; i < members.Count; i++)
            {
                if (state.Remove(members[i].Name, out var old)) old.Dispose();
                state[members[i].Name] = new AdamParameterState(moments[i].GradAverage, moments[i].SquareAverage, steps[0]);
            }
            flat[g] = group;
        }
        return flat;
    }

    private static bool HasGradient(TrainableParameter trainable)
    {
        if (!trainable.Parameter.requires_grad) return false;
        using var grad = trainable.Parameter.grad;
        return grad is not null;
    }

    // fastai's debias(mom, damp, step) with damp = 1 - mom, kept in its form so the doubles match.
    private static double Debias(double beta, long step) => (1 - beta) * (1 - Math.Pow(beta, step)) / (1 - beta);
}
