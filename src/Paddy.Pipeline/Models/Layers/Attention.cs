using Paddy.Pipeline.Device;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models.Layers;

/// <summary>
/// timm's Attention: one qkv Linear (rows q, k, v, each split by head), scaled dot product with an explicit
/// softmax in float32, then proj. The matmuls run in the autocast compute type.
/// </summary>
public sealed class Attention : nn.Module<Tensor, Tensor>
{
    public readonly Linear qkv;
    public readonly Linear proj;
    private readonly long numHeads;
    private readonly double scale;

    public Attention(long dim, long numHeads) : base(nameof(Attention))
    {
        if (dim % numHeads != 0)
            throw new ArgumentException($"Attention width {dim} is not divisible by {numHeads} heads.");
        this.numHeads = numHeads;
        scale = 1.0 / Math.Sqrt(dim / numHeads);
        qkv = new Linear(dim, 3 * dim);
        proj = new Linear(dim, dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long batch = x.shape[0], tokens = x.shape[1], channels = x.shape[2];
        var heads = qkv.forward(x).reshape(batch, tokens, 3, numHeads, channels / numHeads).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (heads[0], heads[1], heads[2]);
        using var scaleScalar = scale.ToScalar();
        var logits = q.mul(scaleScalar).matmul(k.transpose(-2, -1));
        var weights = Autocast.ForCompute(Autocast.ToFloat32(logits).softmax(-1));
        var mixed = weights.matmul(Autocast.ForCompute(v)).transpose(1, 2).reshape(batch, tokens, channels);
        return proj.forward(mixed).MoveToOuterDisposeScope();
    }
}
