using Paddy.Pipeline.Training;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class GradientAccumulationTests
{
    private static (Dictionary<string, Tensor> Parameters, List<Tensor> StepGradients) TrainOneEpoch(int batchSize, int accumulationSamples)
    {
        using var folder = new TempFolder();
        var (x, y) = TinyData.Make(132, seed: 5);
        var train = new InMemoryLoader(x[..128], y[..128], batchSize, shuffle: false, dropLast: true);
        var valid = new InMemoryLoader(x[128..], y[128..], 4);
        var model = TinyClassifier.Create(7);
        var stepGradients = new List<Tensor>();
        using var learner = LearnerFactory.Create(model, train, valid, folder.Path, accumulationSamples: accumulationSamples);
        learner.Add(new ProbeCallback
        {
            OnBeforeStep = l => stepGradients.Add(l.Groups[1].Parameters[0].Parameter.grad!.clone().DetachFromDisposeScope()),
        });

        // A flat schedule: positions differ between the two runs, so lr and beta1 must not depend on them.
        learner.FitOneCycle(1, LrSlice.All(0.01), div: 1, divFinal: 1, moms: (0.9, 0.9, 0.9));

        return (learner.Groups.SelectMany(g => g.Parameters).ToDictionary(p => p.Name, p => p.Parameter.detach().clone()), stepGradients);
    }

    [Fact]
    public void Batches_of_16_accumulated_to_64_samples_update_as_batches_of_64()
    {
        var (whole, wholeGradients) = TrainOneEpoch(batchSize: 64, accumulationSamples: 0);
        var (accumulated, accumulatedGradients) = TrainOneEpoch(batchSize: 16, accumulationSamples: 64);

        Assert.Equal(2, wholeGradients.Count);
        Assert.Equal(2, accumulatedGradients.Count);
        for (int i = 0; i < 2; i++)
            Assert.True(wholeGradients[i].allclose(accumulatedGradients[i], rtol: 0, atol: 1e-6), $"gradient of step {i} differs");
        foreach (var (name, value) in whole)
            Assert.True(value.allclose(accumulated[name], rtol: 0, atol: 1e-5), $"{name} differs");
    }

    [Fact]
    public void A_partial_accumulation_carries_over_the_epoch_boundary()
    {
        using var folder = new TempFolder();
        var (train, valid) = TinyData.Loaders(trainCount: 20, validCount: 4, batchSize: 4);
        var steps = new List<(int Epoch, int Iteration)>();
        using var learner = LearnerFactory.Create(TinyClassifier.Create(4), train, valid, folder.Path, accumulationSamples: 12);
        learner.Add(new ProbeCallback { OnAfterStep = l => steps.Add((l.Epoch, l.Iteration)) });

        learner.FitOneCycle(2, LrSlice.All(0.01));

        // 4 samples a batch, 5 batches an epoch: steps after 12, 24 and 36 samples; the second takes two
        // batches of epoch 0 and one of epoch 1.
        Assert.Equal([(0, 2), (1, 0), (1, 3)], steps);
        Assert.Equal(3, learner.Optimizer.State["head.linear.weight"].Step);
        Assert.Equal(10, learner.History.Batches.Count);
    }
}
