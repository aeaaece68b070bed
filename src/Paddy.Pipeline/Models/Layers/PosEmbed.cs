using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models.Layers;

/// <summary>timm's pos_embed helpers.</summary>
public static class PosEmbed
{
    /// <summary>
    /// timm's resample_abs_pos_embed: bicubic (antialiased, align_corners false) resampling of the grid part of a
    /// [1, prefix + h*w, C] position embedding to a new grid, in float32; the prefix (class token) slots are kept.
    /// </summary>
    public static Tensor ResampleAbsolute(Tensor posEmbed, (long Height, long Width) oldGrid,
        (long Height, long Width) newGrid, int prefixTokens)
    {
        using var scope = NewDisposeScope();
        var channels = posEmbed.shape[2];
        var prefix = posEmbed[.., ..prefixTokens];
        var gridPart = posEmbed[.., prefixTokens..].to_type(ScalarType.Float32)
            .reshape(1, oldGrid.Height, oldGrid.Width, channels).permute(0, 3, 1, 2);
        var resampled = nn.functional.interpolate(gridPart, size: [newGrid.Height, newGrid.Width],
                mode: InterpolationMode.Bicubic, align_corners: false, antialias: true)
            .permute(0, 2, 3, 1).reshape(1, newGrid.Height * newGrid.Width, channels).to_type(posEmbed.dtype);
        return cat([prefix, resampled], 1).MoveToOuterDisposeScope();
    }
}
