using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models;

/// <summary>
/// What Swin v1 and SwinV2 window attention share: forward(x [B * windows, N, C], shift mask [windows, N, N] or
/// null) and timm's non-persistent relative_position_index for the window, which each version reads its bias with.
/// </summary>
public abstract class SwinWindowAttentionBase : nn.Module<Tensor, Tensor?, Tensor>
{
    // Private to this class, so the subclass's RegisterComponents, which would make it a persistent buffer, does not see it.
    private Tensor relative_position_index;

    protected SwinWindowAttentionBase(string name, SwinWindowLayout layout) : base(name)
    {
        relative_position_index = SwinWindows.RelativePositionIndex(layout.WindowHeight, layout.WindowWidth);
        register_buffer(nameof(relative_position_index), relative_position_index, persistent: false);
    }

    /// <summary>For tokens i, j of a window, the row of the version's bias table that holds their offset: [N, N].</summary>
    protected Tensor RelativePositionIndex => relative_position_index;

    /// <summary>The computed buffers timm keeps out of the state dict, under their names relative to this module.</summary>
    public virtual IEnumerable<(string Name, Tensor Buffer)> NonPersistentBuffers() =>
        [(nameof(relative_position_index), relative_position_index)];

    // TorchSharp 0.107 leaves non-persistent buffers out of named_buffers, so Module.to() would not move them.
    protected override void _toEpilog(ScalarType? dtype, torch.Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        relative_position_index = SwinWindows.MoveBuffer(relative_position_index, dtype, device);
        ConditionallyRegisterBuffer(nameof(relative_position_index), relative_position_index, persistent: false);
    }
}
