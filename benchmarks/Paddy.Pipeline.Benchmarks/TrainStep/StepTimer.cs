using System.Diagnostics;
using Paddy.Pipeline.Training;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Benchmarks.TrainStep;

/// <summary>
/// Times the training micro-batches after the warm-up ones, with the device synchronised at both ends (CUDA runs
/// ahead of the host), counts the optimizer steps taken in that window, and ends the fit once it is over, before
/// validation. Runs after every other callback, so their work is inside the window.
/// </summary>
public sealed class StepTimer(int warmupMicroBatches, int timedMicroBatches, TorchSharp.torch.Device device) : Callback
{
    private readonly Stopwatch clock = new();
    private int microBatches;
    private int stepAttempts;
    private int cancelledSteps;

    public override int Order => 1000;

    public TimeSpan Elapsed => clock.Elapsed;

    /// <summary>Optimizer steps taken in the timed window (a loss-scaler overflow cancels one).</summary>
    public int OptimizerSteps => stepAttempts - cancelledSteps;

    public override void AfterCancelStep()
    {
        if (clock.IsRunning) cancelledSteps++;
    }

    public override void AfterStep()
    {
        if (clock.IsRunning) stepAttempts++;
    }

    public override void AfterBatch()
    {
        if (!Learner.Training) return;
        microBatches++;
        if (microBatches == warmupMicroBatches)
        {
            Synchronize();
            clock.Start();
        }
        else if (microBatches == warmupMicroBatches + timedMicroBatches)
        {
            Synchronize();
            clock.Stop();
            throw new CancelFitException();
        }
    }

    private void Synchronize()
    {
        if (device.type == TorchSharp.DeviceType.CUDA) cuda.synchronize(device);
    }
}
