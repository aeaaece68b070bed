using Paddy.Pipeline.Device;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models;

/// <summary>fastai's AdaptiveConcatPool2d with size 1: max pool and average pool, concatenated (max first).</summary>
public sealed class AdaptiveConcatPool2d : nn.Module<Tensor, Tensor>
{
    public AdaptiveConcatPool2d() : base(nameof(AdaptiveConcatPool2d)) { }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return cat([nn.functional.adaptive_max_pool2d(x, [1, 1]), nn.functional.adaptive_avg_pool2d(x, 1)], 1)
            .MoveToOuterDisposeScope();
    }
}

/// <summary>
/// nn.BatchNorm1d (eps 1e-5, momentum 0.1, running statistics) that always runs in float32, as under
/// torch.autocast. fastai initialises its head's BatchNorm with weight 1 and bias 1e-3.
/// </summary>
public sealed class BatchNorm1d : nn.Module<Tensor, Tensor>
{
    public readonly Parameter weight;
    public readonly Parameter bias;
    public readonly Tensor running_mean;
    public readonly Tensor running_var;
    public readonly Tensor num_batches_tracked;
    private const double Eps = 1e-5;
    private const double Momentum = 0.1;

    public BatchNorm1d(long features) : base(nameof(BatchNorm1d))
    {
        weight = new Parameter(ones(features));
        bias = new Parameter(full(features, 1e-3));
        running_mean = zeros(features);
        running_var = ones(features);
        num_batches_tracked = tensor(0L);
        RegisterComponents();
    }

    public long Features => weight.shape[0];

    public override Tensor forward(Tensor x)
    {
        if (training)
        {
            using var noGrad = no_grad();
            num_batches_tracked.add_(HeldScalars.One, HeldScalars.One);
        }
        return nn.functional.batch_norm(Autocast.ToFloat32(x), running_mean, running_var, weight, bias, training, Momentum, Eps);
    }
}

/// <summary>
/// fastai's create_head for a timm body with one hidden layer of 512 (lin_ftrs default): [pool, flatten,]
/// BatchNorm1d, Dropout 0.25, Linear(no bias), ReLU, BatchNorm1d(512), Dropout 0.5, Linear(no bias).
/// Linear weights are kaiming_normal, as fastai's apply_init does.
/// </summary>
public static class FastaiHead
{
    public const int HiddenWidth = 512;

    /// <param name="features">The body's width (nf); the pooled head sees 2nf after concat pooling.</param>
    /// <param name="pool">True when the body returns a feature map that the head must pool (ConvNeXt).</param>
    public static Sequential Create(long features, int numClasses, bool pool)
    {
        var inputWidth = pool ? 2 * features : features;
        var layers = new List<nn.Module<Tensor, Tensor>>();
        if (pool)
        {
            layers.Add(new AdaptiveConcatPool2d());
            layers.Add(nn.Flatten());
        }
        layers.Add(new BatchNorm1d(inputWidth));
        layers.Add(nn.Dropout(0.25));
        layers.Add(KaimingLinear(inputWidth, HiddenWidth));
        layers.Add(nn.ReLU());
        layers.Add(new BatchNorm1d(HiddenWidth));
        layers.Add(nn.Dropout(0.5));
        layers.Add(KaimingLinear(HiddenWidth, numClasses));
        return nn.Sequential(layers.ToArray());
    }

    private static Layers.Linear KaimingLinear(long inFeatures, long outFeatures)
    {
        var linear = new Layers.Linear(inFeatures, outFeatures, hasBias: false);
        using var noGrad = no_grad();
        nn.init.kaiming_normal_(linear.weight);
        return linear;
    }
}
