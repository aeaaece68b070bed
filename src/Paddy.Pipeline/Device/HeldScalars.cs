using TorchSharp;

namespace Paddy.Pipeline.Device;

/// <summary>
/// Scalars that live as long as the process. TorchSharp 0.107's add overloads without an alpha (<c>add(t)</c>,
/// <c>add_(s)</c>, the + operator) pass a temporary <c>Scalar</c> of 1 to libtorch that a garbage collection can
/// finalise while the native call still reads it; the hot paths pass this one as the alpha instead.
/// </summary>
public static class HeldScalars
{
    public static readonly Scalar One = 1.ToScalar();
}
