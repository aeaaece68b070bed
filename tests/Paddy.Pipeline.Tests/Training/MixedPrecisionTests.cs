using Paddy.Pipeline.Device;
using Paddy.Pipeline.Training;
using Paddy.Pipeline.Training.Callbacks;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class MixedPrecisionTests
{
    [Fact]
    public void BFloat16_computes_forward_passes_in_bfloat16_and_keeps_float32_weights_state_and_predictions()
    {
        using var folder = new TempFolder();
        var (train, valid) = TinyData.Loaders(16, 8, 4);
        var model = TinyClassifier.Create(5, batchNorm: true);
        var predictionTypes = new List<ScalarType>();
        using var learner = LearnerFactory.Create(model, train, valid, folder.Path, mixedPrecision: ScalarType.BFloat16);
        learner.Add(new ProbeCallback { OnAfterPred = l => predictionTypes.Add(l.Predictions!.dtype) });
        var before = model.parameters().Select(p => p.detach().clone()).ToList();

        learner.FitOneCycle(1, LrSlice.Upto(0.01));

        Assert.Equal(4 + 2, model.ComputeTypes.Count);
        Assert.All(model.ComputeTypes, t => Assert.Equal(ScalarType.BFloat16, t));
        Assert.All(predictionTypes, t => Assert.Equal(ScalarType.Float32, t));
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        Assert.All(learner.Optimizer.State.Values, s => Assert.Equal(ScalarType.Float32, s.SquareAverage.dtype));
        Assert.Contains(model.parameters().Zip(before), pair => !pair.First.detach().allclose(pair.Second, rtol: 0, atol: 0));
        Assert.Null(learner.Callbacks.OfType<MixedPrecision>().Single().Scaler);
        Assert.Null(Autocast.ComputeType);

        var (probabilities, targets) = learner.GetPreds(valid);

        Assert.Equal(ScalarType.BFloat16, model.ComputeTypes[^1]);
        Assert.Equal(ScalarType.Float32, probabilities.dtype);
        Assert.Equal([8L, TinyData.Classes], probabilities.shape);
        Assert.True(probabilities.sum(1).allclose(ones(8), atol: 1e-5));
        Assert.Equal(ScalarType.Int64, targets.dtype);
        Assert.Null(Autocast.ComputeType);
    }

    [Fact]
    public void Float16_skips_an_overflowed_step_halves_the_scale_and_zeroes_the_gradients()
    {
        using var folder = new TempFolder();
        var (train, valid) = TinyData.Loaders(16, 4, 4);
        var model = TinyClassifier.Create(6);
        using var learner = LearnerFactory.Create(model, train, valid, folder.Path, mixedPrecision: ScalarType.Float16);
        var headWeight = learner.Groups[1].Parameters[0].Parameter;
        var moved = new List<bool>();
        var scales = new List<double>();
        var gradientsZeroed = new List<bool>();
        Tensor? beforeBatch = null;
        learner.Add(new ProbeCallback
        {
            OnAfterLoss = l => { if (l.Training) beforeBatch = headWeight.detach().clone().DetachFromDisposeScope(); },
            OnAfterBackward = l => { if (l.Iteration == 1) headWeight.grad!.fill_(float.PositiveInfinity); },
            OnAfterBatch = l =>
            {
                if (!l.Training) return;
                moved.Add(!headWeight.detach().allclose(beforeBatch!, rtol: 0, atol: 0));
                scales.Add(l.Callbacks.OfType<MixedPrecision>().Single().Scaler!.Scale);
                gradientsZeroed.Add(headWeight.grad!.abs().sum().item<float>() == 0);
            },
        });

        learner.FitOneCycle(1, LrSlice.Upto(0.01));

        Assert.Equal([true, false, true, true], moved);
        Assert.Equal([65536d, 32768d, 32768d, 32768d], scales);
        Assert.All(gradientsZeroed, Assert.True);
        Assert.All(model.ComputeTypes, t => Assert.Equal(ScalarType.Float16, t));
    }
}
