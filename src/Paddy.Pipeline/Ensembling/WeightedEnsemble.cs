using static TorchSharp.torch;

namespace Paddy.Pipeline.Ensembling;

/// <summary>One model's contribution: its probabilities [N, classes] and its weight (the seed counts each ViT run twice).</summary>
public sealed record EnsembleMember(string Name, Tensor Probabilities, double Weight);

/// <summary>The seed's ensemble: the weighted mean of the members' TTA probabilities.</summary>
public static class WeightedEnsemble
{
    public static Tensor Combine(IReadOnlyList<EnsembleMember> members)
    {
        if (members.Count == 0) throw new ArgumentException("An ensemble needs at least one member.", nameof(members));
        var shape = members[0].Probabilities.shape;
        var mismatch = members.FirstOrDefault(m => !m.Probabilities.shape.SequenceEqual(shape));
        if (mismatch is not null)
            throw new InvalidDataException(
                $"{mismatch.Name} has probabilities of shape [{string.Join(",", mismatch.Probabilities.shape)}] but {members[0].Name} has [{string.Join(",", shape)}]; retrain it with --force.");
        using var scope = NewDisposeScope();
        var total = members.Sum(m => m.Weight);
        var sum = zeros(shape, ScalarType.Float64);
        foreach (var member in members) sum.add_(member.Probabilities.to_type(ScalarType.Float64), alpha: member.Weight);
        return sum.div_(total).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>The fraction of rows whose most probable class is not the target.</summary>
    public static double ErrorRate(Tensor probabilities, Tensor targets)
    {
        using var scope = NewDisposeScope();
        if (targets.shape[0] == 0) return double.NaN;
        return probabilities.argmax(1).ne(targets).to_type(ScalarType.Float64).mean().item<double>();
    }
}
