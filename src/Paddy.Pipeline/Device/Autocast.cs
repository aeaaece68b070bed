using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Device;

/// <summary>
/// Mixed precision without torch.autocast (TorchSharp 0.107 has none): while a scope is open, the compute-heavy
/// operations of our layers (convolution, linear, matmul, attention) run in the scope's half type, and
/// norms, softmax and losses run in float32. Parameters stay float32; the casts are differentiable, so
/// gradients reach the float32 master weights as they do under torch.autocast.
/// </summary>
public static class Autocast
{
    [ThreadStatic] private static ScalarType? computeType;

    /// <summary>The half type of the open scope, or null when autocast is off.</summary>
    public static ScalarType? ComputeType => computeType;

    public static IDisposable Enable(ScalarType halfType)
    {
        if (halfType != ScalarType.Float16 && halfType != ScalarType.BFloat16)
            throw new ArgumentException($"Autocast runs in float16 or bfloat16, not {halfType}.", nameof(halfType));
        return new Scope(halfType);
    }

    /// <summary>Casts a floating tensor to the compute type of the open scope; otherwise returns it as is.</summary>
    public static Tensor ForCompute(Tensor x) =>
        computeType is { } type && x.is_floating_point() && x.dtype != type ? x.to_type(type) : x;

    /// <summary>Casts to float32 for the precision-sensitive operations (norms, softmax, loss).</summary>
    public static Tensor ToFloat32(Tensor x) => x.dtype == ScalarType.Float32 ? x : x.to_type(ScalarType.Float32);

    private sealed class Scope : IDisposable
    {
        private readonly ScalarType? previous = computeType;
        public Scope(ScalarType type) => computeType = type;
        public void Dispose() => computeType = previous;
    }
}
