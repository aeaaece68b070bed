using Paddy.Pipeline.Device;
using Paddy.Pipeline.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models;

/// <summary>
/// What a Swin v1 and a SwinV2 block share: the window layout, the shift mask (timm's non-persistent attn_mask)
/// and the two residuals with stochastic depth around a windowed-attention branch and an MLP branch. Where the
/// norms sit in those branches (before in v1, after in v2) is the subclass's.
/// </summary>
public abstract class SwinBlock : nn.Module<Tensor, Tensor>
{
    // Private to this class, so the subclass's RegisterComponents, which would make it a persistent buffer, does not see it.
    private Tensor? attn_mask;

    protected SwinBlock(string name, SwinWindowLayout layout, double dropPathRate) : base(name)
    {
        Layout = layout;
        DropPathRate = dropPathRate;
        if (!layout.IsShifted) return;
        attn_mask = SwinWindows.ShiftMask(layout);
        register_buffer(nameof(attn_mask), attn_mask, persistent: false);
    }

    public SwinWindowLayout Layout { get; }

    public double DropPathRate { get; }

    /// <summary>The computed buffers timm keeps out of the state dict, under their names relative to this block.</summary>
    public IEnumerable<(string Name, Tensor Buffer)> NonPersistentBuffers()
    {
        if (attn_mask is not null) yield return (nameof(attn_mask), attn_mask);
        foreach (var (name, buffer) in WindowAttention.NonPersistentBuffers()) yield return ($"attn.{name}", buffer);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var (batch, height, width, channels) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        var attended = x.add(DropPath.Apply(AttentionBranch(x), DropPathRate, training), HeldScalars.One);
        var tokens = attended.reshape(batch, -1, channels);
        tokens = tokens.add(DropPath.Apply(MlpBranch(tokens), DropPathRate, training), HeldScalars.One);
        return tokens.reshape(batch, height, width, channels).MoveToOuterDisposeScope();
    }

    /// <summary>The attention residual branch of a [B, H, W, C] map.</summary>
    protected abstract Tensor AttentionBranch(Tensor x);

    /// <summary>The MLP residual branch of [B, H * W, C] tokens.</summary>
    protected abstract Tensor MlpBranch(Tensor tokens);

    /// <summary>The block's window attention (timm's attn).</summary>
    protected abstract SwinWindowAttentionBase WindowAttention { get; }

    /// <summary>Shifted-window attention over this block's layout and shift mask.</summary>
    protected Tensor AttendInWindows(Tensor x) => SwinWindows.Attend(x, Layout, WindowAttention.forward, attn_mask);

    // TorchSharp 0.107 leaves non-persistent buffers out of named_buffers, so Module.to() would not move them.
    protected override void _toEpilog(ScalarType? dtype, torch.Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        if (attn_mask is null) return;
        attn_mask = SwinWindows.MoveBuffer(attn_mask, dtype, device);
        ConditionallyRegisterBuffer(nameof(attn_mask), attn_mask, persistent: false);
    }
}
