using Paddy.Pipeline.Device;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models;

/// <summary>
/// Where one Swin block puts its windows: the feature-map size it sees, the window and the cyclic shift.
/// </summary>
public sealed record SwinWindowLayout(int Height, int Width, int WindowHeight, int WindowWidth, int ShiftHeight, int ShiftWidth)
{
    public int WindowArea => WindowHeight * WindowWidth;

    public bool IsShifted => ShiftHeight > 0 || ShiftWidth > 0;

    /// <summary>
    /// timm's rule (_calc_window_shift): a side no longer than the window becomes one whole window and is not
    /// shifted; odd blocks of a stage are shifted by half the window.
    /// </summary>
    public static SwinWindowLayout For(int height, int width, int windowHeight, int windowWidth, bool oddBlock)
    {
        var clampedHeight = Math.Min(height, windowHeight);
        var clampedWidth = Math.Min(width, windowWidth);
        return new SwinWindowLayout(height, width, clampedHeight, clampedWidth,
            oddBlock && height > clampedHeight ? windowHeight / 2 : 0,
            oddBlock && width > clampedWidth ? windowWidth / 2 : 0);
    }
}

/// <summary>The window geometry Swin v1 and v2 share: partitioning, relative positions, shift masks, 2x2 merging.</summary>
public static class SwinWindows
{
    /// <summary>The value timm adds to the logits of token pairs from different regions of a shifted window.</summary>
    public const float MaskedLogit = -100f;

    /// <summary>[B, H, W, C] to [B * windows, windowHeight, windowWidth, C], windows in row-major order.</summary>
    public static Tensor Partition(Tensor x, int windowHeight, int windowWidth)
    {
        var (batch, height, width, channels) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        return x.view(batch, height / windowHeight, windowHeight, width / windowWidth, windowWidth, channels)
            .permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, windowHeight, windowWidth, channels);
    }

    /// <summary>The inverse of <see cref="Partition"/>.</summary>
    public static Tensor Reverse(Tensor windows, int windowHeight, int windowWidth, long height, long width)
    {
        var channels = windows.shape[^1];
        return windows.view(-1, height / windowHeight, width / windowWidth, windowHeight, windowWidth, channels)
            .permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, height, width, channels);
    }

    /// <summary>
    /// timm's relative_position_index: for tokens i, j of a window (row-major), the row of the bias table that
    /// holds their offset, (dy + Wh - 1) * (2 Ww - 1) + (dx + Ww - 1) with (dy, dx) = position(i) - position(j).
    /// </summary>
    public static Tensor RelativePositionIndex(int windowHeight, int windowWidth)
    {
        var area = windowHeight * windowWidth;
        var index = new long[area * area];
        for (var i = 0; i < area; i++)
            for (var j = 0; j < area; j++)
            {
                var dy = i / windowWidth - j / windowWidth;
                var dx = i % windowWidth - j % windowWidth;
                index[i * area + j] = (dy + windowHeight - 1) * (2L * windowWidth - 1) + dx + windowWidth - 1;
            }
        return tensor(index, [area, area]);
    }

    /// <summary>
    /// timm's attn_mask for a shifted block, [windows, area, area] float32: 0 where two tokens of a window came
    /// from the same region of the (padded) map before the cyclic shift, -100 where the roll made them neighbours.
    /// </summary>
    public static Tensor ShiftMask(SwinWindowLayout layout)
    {
        var paddedHeight = CeilToMultiple(layout.Height, layout.WindowHeight);
        var paddedWidth = CeilToMultiple(layout.Width, layout.WindowWidth);
        var windowsAcross = paddedWidth / layout.WindowWidth;
        var windowCount = paddedHeight / layout.WindowHeight * windowsAcross;
        var area = layout.WindowArea;

        var regionOfToken = new int[windowCount, area];
        for (var y = 0; y < paddedHeight; y++)
            for (var x = 0; x < paddedWidth; x++)
            {
                var region = 3 * Region(y, paddedHeight, layout.WindowHeight, layout.ShiftHeight)
                    + Region(x, paddedWidth, layout.WindowWidth, layout.ShiftWidth);
                var window = y / layout.WindowHeight * windowsAcross + x / layout.WindowWidth;
                regionOfToken[window, y % layout.WindowHeight * layout.WindowWidth + x % layout.WindowWidth] = region;
            }

        var mask = new float[windowCount * area * area];
        for (var w = 0; w < windowCount; w++)
            for (var i = 0; i < area; i++)
                for (var j = 0; j < area; j++)
                    mask[(w * area + i) * area + j] = regionOfToken[w, i] == regionOfToken[w, j] ? 0f : MaskedLogit;
        return tensor(mask, [windowCount, area, area]);
    }

    /// <summary>
    /// Swin's PatchMerging gather: [B, H, W, C] (padded to even sides) to [B, H/2, W/2, 4C] with the 2x2
    /// neighbours concatenated as (row, col) offsets (0,0), (1,0), (0,1), (1,1), timm's order.
    /// </summary>
    public static Tensor MergeNeighbours(Tensor x)
    {
        using var scope = NewDisposeScope();
        var (batch, height, width, channels) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        var padded = nn.functional.pad(x, [0, 0, 0, width % 2, 0, height % 2]);
        var (evenHeight, evenWidth) = (padded.shape[1], padded.shape[2]);
        return padded.reshape(batch, evenHeight / 2, 2, evenWidth / 2, 2, channels)
            .permute(0, 1, 3, 4, 2, 5).flatten(3).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The shifted-window attention of a block, [B, H, W, C] to [B, H, W, C]: roll by minus the shift, pad to
    /// whole windows, attend within each window (with the shift mask), undo the partition, crop and roll back.
    /// </summary>
    public static Tensor Attend(Tensor x, SwinWindowLayout layout, Func<Tensor, Tensor?, Tensor> windowAttention, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        var (height, width, channels) = (x.shape[1], x.shape[2], x.shape[3]);
        var shifted = layout.IsShifted
            ? x.roll([-layout.ShiftHeight, -layout.ShiftWidth], [1, 2])
            : x;
        var padHeight = CeilToMultiple((int)height, layout.WindowHeight) - height;
        var padWidth = CeilToMultiple((int)width, layout.WindowWidth) - width;
        if (padHeight > 0 || padWidth > 0)
            shifted = nn.functional.pad(shifted, [0, 0, 0, padWidth, 0, padHeight]);
        var (paddedHeight, paddedWidth) = (shifted.shape[1], shifted.shape[2]);

        var windows = Partition(shifted, layout.WindowHeight, layout.WindowWidth).view(-1, layout.WindowArea, channels);
        var attended = windowAttention(windows, mask)
            .view(-1, layout.WindowHeight, layout.WindowWidth, channels);
        var merged = Reverse(attended, layout.WindowHeight, layout.WindowWidth, paddedHeight, paddedWidth);
        if (padHeight > 0 || padWidth > 0)
            merged = merged[.., ..(int)height, ..(int)width, ..].contiguous();
        var result = layout.IsShifted
            ? merged.roll([layout.ShiftHeight, layout.ShiftWidth], [1, 2])
            : merged;
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Adds the shift mask to attention logits [B * windows, heads, N, N]; the mask is [windows, N, N].
    /// </summary>
    public static Tensor AddMask(Tensor logits, Tensor mask)
    {
        var (windowCount, heads, tokens) = (mask.shape[0], logits.shape[1], logits.shape[2]);
        return logits.view(-1, windowCount, heads, tokens, tokens).add(mask.unsqueeze(1).unsqueeze(0), HeldScalars.One)
            .view(-1, heads, tokens, tokens);
    }

    /// <summary>
    /// A computed buffer after Module.to(dtype, device): on the new device, floating buffers in the new dtype,
    /// integer indices unchanged, as torch converts buffers. The old tensor is disposed when a copy was made.
    /// </summary>
    public static Tensor MoveBuffer(Tensor buffer, ScalarType? dtype, torch.Device? device)
    {
        var type = dtype is { } target && buffer.is_floating_point() ? target : buffer.dtype;
        var moved = buffer.to(type, device ?? buffer.device);
        if (!ReferenceEquals(moved, buffer) && moved.Handle != buffer.Handle) buffer.Dispose();
        return moved.DetachFromDisposeScope();
    }

    // timm labels the slices [0, size - window), [size - window, size - shift), [size - shift, size); an
    // unshifted side is one region, as timm's last slice (-0:) then overwrites the whole side.
    private static int Region(int position, int size, int window, int shift) =>
        shift == 0 ? 0 : position < size - window ? 0 : position < size - shift ? 1 : 2;

    private static int CeilToMultiple(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
