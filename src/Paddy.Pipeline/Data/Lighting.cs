using Paddy.Pipeline.Device;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Data;

/// <summary>
/// fastai's LightingTfm with Brightness then Contrast (vision/augment.py), in logit space:
/// y = sigmoid((logit(x) + logit(brightness)) * contrast), with logit clamping its input to [1e-7, 1 - 1e-7].
/// brightness 0.5 and contrast 1 leave an image unchanged.
/// </summary>
public static class Lighting
{
    private const double Epsilon = 1e-7;

    public static double Logit(double x)
    {
        x = Math.Clamp(x, Epsilon, 1 - Epsilon);
        return -Math.Log(1 / x - 1);
    }

    /// <summary>The per-image shift added in logit space: logit(brightness), as float32.</summary>
    public static float Shift(double brightness) => (float)Logit(brightness);

    /// <summary>images: float [B,3,H,W] in [0,1]; one brightness and one contrast per image.</summary>
    public static Tensor Apply(Tensor images, double[] brightness, double[] contrast)
    {
        using var shift = tensor(brightness.Select(Shift).ToArray(), device: images.device);
        using var scale = tensor(contrast.Select(c => (float)c).ToArray(), device: images.device);
        return Apply(images, shift, scale);
    }

    /// <summary>images: float [B,3,H,W] in [0,1]; shift (<see cref="Shift"/>) and contrast: float [B] on the images' device.</summary>
    public static Tensor Apply(Tensor images, Tensor shift, Tensor contrast)
    {
        using var scope = NewDisposeScope();
        using var low = Epsilon.ToScalar();
        using var high = (1 - Epsilon).ToScalar();
        var logits = images.clamp(low, high).reciprocal().sub_(HeldScalars.One).log_().neg_();
        return logits.add_(shift.view(-1, 1, 1, 1), HeldScalars.One).mul_(contrast.view(-1, 1, 1, 1)).sigmoid_().MoveToOuterDisposeScope();
    }
}
