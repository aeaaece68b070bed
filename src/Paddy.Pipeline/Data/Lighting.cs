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

    /// <summary>images: float [B,3,H,W] in [0,1]; one brightness and one contrast per image.</summary>
    public static Tensor Apply(Tensor images, double[] brightness, double[] contrast)
    {
        using var scope = NewDisposeScope();
        var shift = tensor(brightness.Select(b => (float)Logit(b)).ToArray(), device: images.device).view(-1, 1, 1, 1);
        var scale = tensor(contrast.Select(c => (float)c).ToArray(), device: images.device).view(-1, 1, 1, 1);
        var logits = -(1 / images.clamp(Epsilon, 1 - Epsilon) - 1).log();
        return ((logits + shift) * scale).sigmoid().MoveToOuterDisposeScope();
    }
}
