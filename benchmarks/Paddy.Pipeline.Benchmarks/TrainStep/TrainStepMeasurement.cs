using Paddy.Pipeline.Device;
using Paddy.Pipeline.Models;
using Paddy.Pipeline.Training;
using Paddy.Pipeline.Training.Callbacks;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Benchmarks.TrainStep;

/// <summary>
/// One model, in its own process: the fastai classifier with random weights on the device, and the project's Learner
/// as a Train task builds it (fastai's Adam, GradientAccumulation, MixedPrecision with the loss scaler, recorder,
/// one-cycle schedule), all layers trainable as in fine_tune's main phase, fed one synthetic batch already on the
/// device. The peak memory meter starts before the model exists, as in a Train task's worker.
/// </summary>
public static class TrainStepMeasurement
{
    private const int Classes = 10;

    public static TrainStepRecord Measure(TrainStepModel model, TrainStepOptions options)
    {
        var (device, _) = DeviceSelector.Select(options.Device);
        var halfType = options.Precision switch
        {
            "fp16" when device.type == DeviceType.CUDA => ScalarType.Float16,
            "fp16" or "bf16" => ScalarType.BFloat16,
            _ => (ScalarType?)null,
        };
        using var memory = PeakMemory.For(device);
        memory.Start();
        manual_seed(0);
        using var classifier = new FastaiClassifier(model.Body(), Classes);
        classifier.to(device);
        using var batches = new SyntheticBatches(
            randn(options.MicroBatch, 3, model.Height, model.Width, device: device),
            randint(Classes, [options.MicroBatch], ScalarType.Int64, device: device),
            options.WarmupMicroBatches + options.TimedMicroBatches);
        var callbacks = new List<Callback>();
        if (options.AccumulationSamples > 0) callbacks.Add(new GradientAccumulation(options.AccumulationSamples));
        if (halfType is { } half) callbacks.Add(new MixedPrecision(half));
        using var learner = new Learner(classifier, batches, batches, callbacks);
        var timer = new StepTimer(options.WarmupMicroBatches, options.TimedMicroBatches, device);
        learner.Add(timer);
        learner.FitOneCycle(1, LrSlice.All(1e-3));
        if (timer.Elapsed == TimeSpan.Zero)
            throw new InvalidOperationException($"The fit of {model.Name} ended before its timed micro-batches.");
        return new TrainStepRecord
        {
            Side = "torchsharp",
            Model = model.Name,
            Height = model.Height,
            Width = model.Width,
            MicroBatch = options.MicroBatch,
            AccumulationSamples = options.AccumulationSamples,
            Precision = halfType switch { ScalarType.Float16 => "fp16", ScalarType.BFloat16 => "bf16", _ => "fp32" },
            Device = device.ToString(),
            WarmupMicroBatches = options.WarmupMicroBatches,
            TimedMicroBatches = options.TimedMicroBatches,
            OptimizerStepsTimed = timer.OptimizerSteps,
            Seconds = timer.Elapsed.TotalSeconds,
            ImagesPerSecond = options.TimedMicroBatches * options.MicroBatch / timer.Elapsed.TotalSeconds,
            PeakProcessMemoryBytes = memory.PeakBytes,
            PeakMemorySource = memory.Source,
            LossScale = learner.Callbacks.OfType<MixedPrecision>().SingleOrDefault()?.Scaler?.Scale,
            Parameters = classifier.parameters().Sum(p => p.numel()),
            Framework = $"TorchSharp {typeof(torch).Assembly.GetName().Version}",
        };
    }
}
