using Paddy.Pipeline.Data;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Inference;

/// <summary>
/// fastai's Learner.tta(n=4, beta=0.25): n passes with the training transforms, their softmax probabilities
/// averaged; one plain pass with the validation transforms; result torch.lerp(augmented, plain, beta)
/// = (1 - beta) * augmented + beta * plain. beta weights the PLAIN pass.
/// </summary>
public static class Tta
{
    /// <param name="probabilities">One pass of a loader: the loader and the pass number in, float32 softmax
    /// probabilities [N, C] on the CPU out, e.g. the learner's GetPreds, which runs the model as training's validation does.</param>
    /// <param name="plain">The items in order with validation transforms (<see cref="LoaderKind.Valid"/>).</param>
    /// <param name="augmented">The same items in the same order with training transforms
    /// (<see cref="LoaderKind.TestWithTrainTransforms"/>); its epoch i is pass i.</param>
    /// <returns>float32 probabilities [N, C] on the CPU.</returns>
    public static Tensor Predict(Func<IBatchLoader, int, Tensor> probabilities, IBatchLoader plain, IBatchLoader augmented,
        int passes = 4, double beta = 0.25)
    {
        if (passes < 1) throw new ArgumentOutOfRangeException(nameof(passes), "TTA needs at least one augmented pass.");
        if (plain.ItemCount != augmented.ItemCount)
            throw new ArgumentException($"The plain loader has {plain.ItemCount} items, the augmented one {augmented.ItemCount}; they must hold the same items.");
        using var scope = NewDisposeScope();
        var sum = probabilities(augmented, 0);
        for (var pass = 1; pass < passes; pass++) sum.add_(probabilities(augmented, pass));
        return Combine(sum / passes, probabilities(plain, 0), beta).MoveToOuterDisposeScope();
    }

    /// <summary>torch.lerp(augmented, plain, beta).</summary>
    public static Tensor Combine(Tensor augmented, Tensor plain, double beta) => augmented.lerp(plain, beta);
}
