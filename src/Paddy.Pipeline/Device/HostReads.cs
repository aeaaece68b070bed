using static TorchSharp.torch;

namespace Paddy.Pipeline.Device;

/// <summary>
/// The one way the training step reads a tensor's value on the host. On CUDA every read waits for the queue to drain,
/// so each is counted: <see cref="Count"/> says how many reads this thread has made, and a test or benchmark compares
/// it before and after a step. The training step's budget is one read per optimizer step (the loss scaler's
/// finite-check); the recorder reads its device-side totals once per epoch.
/// </summary>
public static class HostReads
{
    [ThreadStatic] private static long count;

    /// <summary>Host reads made by the current thread since it started.</summary>
    public static long Count => count;

    public static T Item<T>(Tensor scalar) where T : unmanaged
    {
        count++;
        return scalar.item<T>();
    }

    public static T[] ToArray<T>(Tensor values) where T : unmanaged
    {
        count++;
        using var host = values.cpu();
        return host.data<T>().ToArray();
    }
}
