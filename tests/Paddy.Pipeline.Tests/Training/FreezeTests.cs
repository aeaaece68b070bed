using Paddy.Pipeline.Training;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class FreezeTests
{
    [Fact]
    public void Freeze_leaves_norm_parameters_and_the_head_trainable_and_body_weights_and_biases_frozen()
    {
        using var folder = new TempFolder();
        var (train, valid) = TinyData.Loaders(16, 4, 4);
        var model = TinyClassifier.Create(2, batchNorm: true);
        using var learner = LearnerFactory.Create(model, train, valid, folder.Path);

        learner.Freeze();

        var trainable = learner.Groups.SelectMany(g => g.Parameters).ToDictionary(p => p.Name, p => p.Parameter.requires_grad);
        Assert.False(trainable["body.linear.weight"]);
        Assert.False(trainable["body.linear.bias"]);
        Assert.True(trainable["body.norm.weight"]);
        Assert.True(trainable["body.norm.bias"]);
        Assert.True(trainable["body.batchnorm.weight"]);
        Assert.True(trainable["body.batchnorm.bias"]);
        Assert.True(trainable["head.linear.weight"]);
        Assert.True(trainable["head.linear.bias"]);
        Assert.Equal(TrainingPhase.Frozen, learner.Phase);

        learner.Unfreeze();

        Assert.All(learner.Groups.SelectMany(g => g.Parameters), p => Assert.True(p.Parameter.requires_grad));
        Assert.Equal(TrainingPhase.Unfrozen, learner.Phase);
    }

    [Fact]
    public void Training_while_frozen_moves_head_and_norms_only_and_unfreeze_clears_adam_state()
    {
        using var folder = new TempFolder();
        var (train, valid) = TinyData.Loaders(16, 4, 4);
        var model = TinyClassifier.Create(3, batchNorm: true);
        using var learner = LearnerFactory.Create(model, train, valid, folder.Path);
        var before = learner.Groups.SelectMany(g => g.Parameters).ToDictionary(p => p.Name, p => p.Parameter.detach().clone());

        learner.Freeze();
        learner.FitOneCycle(1, LrSlice.Upto(0.01));

        foreach (var p in learner.Groups.SelectMany(g => g.Parameters))
        {
            bool moved = !p.Parameter.detach().allclose(before[p.Name], rtol: 0, atol: 0);
            Assert.True(moved == (p.IsNorm || p.Name.StartsWith("head.", StringComparison.Ordinal)), $"{p.Name} moved: {moved}");
        }
        Assert.Equal(
            new HashSet<string> { "body.norm.weight", "body.norm.bias", "body.batchnorm.weight", "body.batchnorm.bias", "head.linear.weight", "head.linear.bias" },
            learner.Optimizer.State.Keys.ToHashSet());

        learner.Unfreeze();

        Assert.Empty(learner.Optimizer.State);
    }
}
