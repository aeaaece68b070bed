using static TorchSharp.torch;

namespace Paddy.Pipeline.Models;

/// <summary>The hyper-parameters of a Swin (v1 or v2) body, as timm's constructor takes them.</summary>
public sealed record SwinArchitecture(
    int ImageHeight, int ImageWidth, int PatchSize, int InChannels, int EmbedDim,
    IReadOnlyList<int> Depths, IReadOnlyList<int> NumHeads, int WindowHeight, int WindowWidth,
    double MlpRatio = 4.0, bool QkvBias = true, double MaxDropPathRate = 0.1)
{
    /// <summary>The architecture from timm constructor kwargs (img_size and window_size: an int or a (height, width) pair).</summary>
    public static SwinArchitecture FromTimmArguments(TimmArguments args, int defaultImageSize, int defaultWindow)
    {
        var (imageHeight, imageWidth) = args.IntPair("img_size", (defaultImageSize, defaultImageSize));
        var (windowHeight, windowWidth) = args.IntPair("window_size", (defaultWindow, defaultWindow));
        return new SwinArchitecture(imageHeight, imageWidth, args.Int("patch_size", 4), args.Int("in_chans", 3),
            args.Int("embed_dim", 96), args.IntList("depths", [2, 2, 6, 2]), args.IntList("num_heads", [3, 6, 12, 24]),
            windowHeight, windowWidth, args.Double("mlp_ratio", 4.0), args.Bool("qkv_bias", true), args.Double("drop_path_rate", 0.1));
    }

    public (int Height, int Width) PatchGrid => (ImageHeight / PatchSize, ImageWidth / PatchSize);

    /// <summary>Stage s has EmbedDim * 2^s channels; the last stage's width is num_features.</summary>
    public int NumFeatures => EmbedDim << (Depths.Count - 1);

    /// <summary>timm's rule: even blocks are not shifted, odd blocks by half the window; a stage no larger than
    /// the window becomes one unshifted window.</summary>
    public SwinWindowLayout BlockLayout(int height, int width, int blockIndex) =>
        SwinWindowLayout.For(height, width, WindowHeight, WindowWidth, oddBlock: blockIndex % 2 == 1);

    /// <summary>
    /// Stochastic depth of block b of stage s: timm's calculate_drop_path_rates, rising linearly from 0 at the
    /// first block to MaxDropPathRate (timm's drop_path_rate, 0.1 by default for Swin) at the last.
    /// </summary>
    public double DropPathRate(int stage, int block)
    {
        var total = Depths.Sum();
        var index = Depths.Take(stage).Sum() + block;
        return total == 1 ? 0 : MaxDropPathRate * index / (total - 1);
    }

    public void CheckInput(Tensor x, string model)
    {
        if (x.dim() != 4 || x.shape[1] != InChannels || x.shape[2] != ImageHeight || x.shape[3] != ImageWidth)
            throw new ArgumentException(
                $"{model} was built for input [B, {InChannels}, {ImageHeight}, {ImageWidth}] (its shift masks and " +
                $"windows are computed for that size) but got [{string.Join(", ", x.shape)}]. Resize the images to " +
                $"{ImageHeight}x{ImageWidth}, or build the model with ModelOptions for the size you feed.");
    }
}
