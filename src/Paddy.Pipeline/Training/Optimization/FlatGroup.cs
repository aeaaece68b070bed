using Paddy.Pipeline.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Training.Optimization;

/// <summary>
/// One parameter group's stepped parameters laid end to end in flat buffers: the parameters and their gradients
/// become views of one buffer each, Adam's moments live in two more, so a step is a handful of operations on whole
/// buffers instead of several per tensor (TorchSharp has no torch._foreach_*). The parameters that weight decay
/// applies to come first, so decay is one operation on the buffer's front.
/// </summary>
internal sealed class FlatGroup : IDisposable
{
    private FlatGroup(IReadOnlyList<TrainableParameter> members, long decayedElements, Tensor parameters, Tensor gradients,
        Tensor gradAverage, Tensor squareAverage)
    {
        Members = members;
        DecayedElements = decayedElements;
        Parameters = parameters;
        Gradients = gradients;
        GradAverage = gradAverage;
        SquareAverage = squareAverage;
    }

    public IReadOnlyList<TrainableParameter> Members { get; }
    public long DecayedElements { get; }
    public Tensor Parameters { get; }
    public Tensor Gradients { get; }
    public Tensor GradAverage { get; }
    public Tensor SquareAverage { get; }

    /// <summary>
    /// Moves <paramref name="members"/> (same dtype and device, each with a gradient) into flat buffers; their
    /// current values, gradients and any <paramref name="restored"/> moments are copied in. Returns the per-parameter
    /// moment views in member order.
    /// </summary>
    public static (FlatGroup Group, List<(Tensor GradAverage, Tensor SquareAverage)> Moments) Create(
        string groupName, IReadOnlyList<TrainableParameter> members, Func<TrainableParameter, AdamParameterState?> restored)
    {
        using var noGrad = no_grad();
        var first = members[0].Parameter;
        foreach (var member in members)
            if (member.Parameter.dtype != first.dtype || member.Parameter.device_type != first.device_type || member.Parameter.device_index != first.device_index)
                throw new InvalidOperationException(
                    $"Parameter group '{groupName}' mixes {first.dtype} on {first.device} ('{members[0].Name}') with {member.Parameter.dtype} on {member.Parameter.device} ('{member.Name}'); the optimizer keeps one flat buffer per group, so move the model to one device and dtype first.");
        long total = members.Sum(m => m.Parameter.numel());
        long decayed = members.TakeWhile(m => !m.ExemptFromWeightDecay).Sum(m => m.Parameter.numel());
        var parameters = empty(total, first.dtype, first.device).DetachFromDisposeScope();
        var gradients = empty(total, first.dtype, first.device).DetachFromDisposeScope();
        var gradAverage = zeros(total, ScalarType.Float32, first.device).DetachFromDisposeScope();
        var squareAverage = zeros(total, ScalarType.Float32, first.device).DetachFromDisposeScope();
        var moments = new List<(Tensor, Tensor)>(members.Count);
        long offset = 0;
        foreach (var member in members)
        {
            var p = member.Parameter;
            long n = p.numel();
            var shape = p.shape;
            using (var scope = NewDisposeScope())
            {
                var parameterView = parameters.narrow(0, offset, n).view(shape);
                parameterView.copy_(p);
                p.set_(parameterView);
                var gradientView = gradients.narrow(0, offset, n).view(shape);
                using (var grad = p.grad!) gradientView.copy_(grad);
                p.grad = gradientView;
                if (restored(member) is { } saved)
                {
                    gradAverage.narrow(0, offset, n).copy_(saved.GradAverage.view(-1));
                    squareAverage.narrow(0, offset, n).copy_(saved.SquareAverage.view(-1));
                }
            }
            moments.Add((View(gradAverage, offset, shape), View(squareAverage, offset, shape)));
            offset += n;
        }
        return (new FlatGroup(members, decayed, parameters, gradients, gradAverage, squareAverage), moments);
    }

    private static Tensor View(Tensor flat, long offset, long[] shape)
    {
        using var scope = NewDisposeScope();
        return flat.narrow(0, offset, shape.Aggregate(1L, (a, b) => a * b)).view(shape).DetachFromDisposeScope();
    }

    public void Dispose()
    {
        Parameters.Dispose();
        Gradients.Dispose();
        GradAverage.Dispose();
        SquareAverage.Dispose();
    }
}
