using static TorchSharp.torch;

namespace Paddy.Pipeline.Models.Weights;

/// <summary>
/// A model family that adapts pretrained tensors to its own configuration before strict loading, as timm's
/// checkpoint_filter_fn does (for example ViT resampling pos_embed to another image size).
/// </summary>
public interface IAdaptsPretrainedWeights
{
    /// <summary>Replaces entries of <paramref name="tensors"/> (by file key) with adapted ones; never removes keys.</summary>
    void AdaptPretrainedWeights(IDictionary<string, Tensor> tensors);
}
