using System.Text.RegularExpressions;
using Paddy.Pipeline.Device;
using Paddy.Pipeline.IO;
using Paddy.Pipeline.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Models;

public sealed class FastaiClassifierTests
{
    private const int Classes = 5;

    private static ConvNeXt TinyConvNeXt() => new([1, 1], [8, 16], numClasses: 0);

    private static VisionTransformer TinyVit() => new((32, 48), patchSize: 16, embedDim: 24, depth: 1, numHeads: 2, numClasses: 0);

    [Fact]
    public void ConvNeXt_head_pools_the_feature_map_and_takes_twice_its_width()
    {
        using var model = new FastaiClassifier(TinyConvNeXt(), Classes);
        var widths = HeadShape(model);
        Assert.Equal(["AdaptiveConcatPool2d", "Flatten", "BatchNorm1d 32", "Dropout", "Linear 32->512", "ReLU",
            "BatchNorm1d 512", "Dropout", "Linear 512->5"], widths);
        model.eval();
        using var noGrad = no_grad();
        using var output = model.forward(randn(2, 3, 64, 96));
        Assert.Equal([2L, Classes], output.shape);
    }

    [Fact]
    public void ViT_head_takes_the_class_token_width()
    {
        using var model = new FastaiClassifier(TinyVit(), Classes);
        Assert.Equal(["BatchNorm1d 24", "Dropout", "Linear 24->512", "ReLU", "BatchNorm1d 512", "Dropout", "Linear 512->5"],
            HeadShape(model));
        model.eval();
        using var noGrad = no_grad();
        using var output = model.forward(randn(2, 3, 32, 48));
        Assert.Equal([2L, Classes], output.shape);
    }

    [Fact]
    public void ConvNeXt_head_input_is_max_pool_then_average_pool_of_the_features()
    {
        using var model = new FastaiClassifier(TinyConvNeXt(), Classes);
        model.eval();
        using var noGrad = no_grad();
        using var input = randn(1, 3, 64, 64);
        using var features = model.body.forward_features(input);
        using var pooled = model.head[1].call(model.head[0].call(features));
        var expected = cat([features.amax([2, 3]), features.mean([2, 3])], 1);
        Assert.True(pooled.allclose(expected, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void BatchNorm_starts_at_weight_one_and_bias_1e_3_and_linear_layers_have_no_bias()
    {
        using var model = new FastaiClassifier(TinyVit(), Classes);
        var norms = model.head.children().OfType<BatchNorm1d>().ToList();
        Assert.Equal(2, norms.Count);
        foreach (var norm in norms)
        {
            Assert.All(norm.weight.data<float>().ToArray(), w => Assert.Equal(1f, w));
            Assert.All(norm.bias.data<float>().ToArray(), b => Assert.Equal(1e-3f, b));
        }
        Assert.All(model.head.children().OfType<Paddy.Pipeline.Models.Layers.Linear>(), l => Assert.Null(l.bias));
        // kaiming_normal_ (fan_in, gain sqrt 2): std = sqrt(2 / 512) for the last layer's 2,560 weights.
        var last = model.head.children().OfType<Paddy.Pipeline.Models.Layers.Linear>().Last();
        var std = last.weight.std().item<float>();
        Assert.InRange(std, 0.9 * Math.Sqrt(2.0 / 512), 1.1 * Math.Sqrt(2.0 / 512));
    }

    [Fact]
    public void BatchNorm_runs_in_float32_inside_an_autocast_scope()
    {
        using var norm = new BatchNorm1d(4);
        using var input = randn(3, 4).to_type(ScalarType.BFloat16);
        using var autocast = Autocast.Enable(ScalarType.BFloat16);
        using var output = norm.forward(input);
        Assert.Equal(ScalarType.Float32, output.dtype);
    }

    [Fact]
    public void SwinV2_query_and_value_biases_get_weight_decay_as_fastai_gives_them()
    {
        var kwargs = (System.Text.Json.Nodes.JsonObject)System.Text.Json.Nodes.JsonNode.Parse(
            """{"img_size": 32, "window_size": 4, "embed_dim": 8, "depths": [1], "num_heads": [2], "num_classes": 0}""")!;
        using var model = new FastaiClassifier(SwinTransformerV2.FromTimmArguments(kwargs), Classes);
        var all = model.ParameterGroups().SelectMany(g => g.Parameters).ToList();
        Assert.Contains(all, p => p.Name == "body.layers.0.blocks.0.attn.q_bias" && !p.ExemptFromWeightDecay);
        Assert.Contains(all, p => p.Name == "body.layers.0.blocks.0.attn.v_bias" && !p.ExemptFromWeightDecay);
        Assert.Contains(all, p => p.Name == "body.layers.0.blocks.0.attn.cpb_mlp.0.bias" && p.IsBias);
    }

    [Fact]
    public void Parameter_groups_are_body_then_head_with_norm_and_bias_flags()
    {
        using var model = new FastaiClassifier(TinyConvNeXt(), Classes);
        var groups = model.ParameterGroups();
        Assert.Equal(["body", "head"], groups.Select(g => g.Name));
        var all = groups.SelectMany(g => g.Parameters).ToList();
        Assert.Equal(model.named_parameters().Select(p => p.name), all.Select(p => p.Name));
        Assert.All(groups[0].Parameters, p => Assert.StartsWith("body.", p.Name));
        Assert.All(groups[1].Parameters, p => Assert.StartsWith("head.", p.Name));

        var normPattern = new Regex(@"^(body\.(stem\.1|stages\.\d+\.downsample\.0|stages\.\d+\.blocks\.\d+\.norm|head\.norm)|head\.(2|6))\.(weight|bias)$");
        Assert.Equal(all.Where(p => normPattern.IsMatch(p.Name)).Select(p => p.Name), all.Where(p => p.IsNorm).Select(p => p.Name));
        Assert.Equal(all.Where(p => p.Name.EndsWith(".bias")).Select(p => p.Name), all.Where(p => p.IsBias).Select(p => p.Name));
        Assert.Contains(all, p => p.Name == "body.stages.1.blocks.0.gamma" && !p.IsNorm && !p.IsBias);
        Assert.Contains(all, p => p.Name == "head.6.weight" && p.IsNorm);
    }

    [Fact]
    public void ViT_norm_parameters_are_the_layer_norms_and_head_batch_norms()
    {
        using var model = new FastaiClassifier(TinyVit(), Classes);
        var all = model.ParameterGroups().SelectMany(g => g.Parameters).ToList();
        Assert.Equal(
            ["body.blocks.0.norm1.weight", "body.blocks.0.norm1.bias", "body.blocks.0.norm2.weight", "body.blocks.0.norm2.bias",
             "body.norm.weight", "body.norm.bias", "head.0.weight", "head.0.bias", "head.4.weight", "head.4.bias"],
            all.Where(p => p.IsNorm).Select(p => p.Name));
        Assert.Contains(all, p => p.Name == "body.pos_embed" && !p.ExemptFromWeightDecay);
    }

    [Theory]
    [InlineData("convnext")]
    [InlineData("vit")]
    public void Forward_and_backward_reach_every_parameter(string family)
    {
        using var model = new FastaiClassifier(family == "vit" ? TinyVit() : TinyConvNeXt(), Classes);
        model.train();
        using var input = family == "vit" ? randn(4, 3, 32, 48) : randn(4, 3, 64, 64);
        using var loss = nn.functional.cross_entropy(model.forward(input), tensor(new long[] { 0, 1, 2, 3 }));
        loss.backward();
        Assert.True(float.IsFinite(loss.item<float>()));
        // fastai pools ConvNeXt's feature map itself, so timm's head.norm is unused and gets no gradient.
        var unused = model.named_parameters().Where(p => p.name.StartsWith("body.head.norm.")).ToList();
        Assert.Equal(family == "convnext" ? 2 : 0, unused.Count);
        Assert.All(unused, p => Assert.Null(p.parameter.grad));
        Assert.All(model.named_parameters().Except(unused), p =>
        {
            Assert.True(p.parameter.grad is not null, $"{p.name} has no gradient");
            Assert.True(p.parameter.grad!.abs().sum().item<float>() > 0, $"{p.name} has a zero gradient");
        });
    }

    [Theory]
    [InlineData("convnext")]
    [InlineData("vit")]
    public void Bfloat16_autocast_computes_in_half_and_stays_near_float32(string family)
    {
        using var model = new FastaiClassifier(family == "vit" ? TinyVit() : TinyConvNeXt(), Classes);
        model.eval();
        using var input = family == "vit" ? randn(2, 3, 32, 48) : randn(2, 3, 64, 64);
        using var noGrad = no_grad();
        using var reference = model.forward(input);
        Tensor half;
        using (Autocast.Enable(ScalarType.BFloat16)) half = model.forward(input);
        using (half)
        {
            Assert.Equal(ScalarType.BFloat16, half.dtype);
            var error = (half.to_type(ScalarType.Float32) - reference).abs().max().item<float>();
            Assert.True(error < 0.05 * (1 + reference.abs().max().item<float>()), $"bfloat16 differs by {error}");
        }
    }

    [Fact]
    public void Create_builds_an_atto_body_from_a_pretrained_file_at_64x64_without_its_classifier()
    {
        var definition = ModelCatalog.Resolve("convnext_atto");
        var path = Path.Combine(Path.GetTempPath(), $"zoo-a-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (var pretrained = definition.Create(new ModelOptions(definition.Pretrained.NumClasses, 224, 224)))
                SafeTensors.Save(path, pretrained.state_dict());
            using var model = FastaiClassifier.Create(definition, Classes, 64, 64, path);
            using var file = SafeTensors.Load(path);
            var body = model.body.state_dict();
            Assert.Equal(file.Tensors.Select(t => t.Key).Where(k => !k.StartsWith("head.fc.")), body.Keys);
            foreach (var (key, value) in body) TensorAssert.Identical(file[key], value, key);
            model.eval();
            using var noGrad = no_grad();
            using var output = model.forward(randn(2, 3, 64, 64));
            Assert.Equal([2L, Classes], output.shape);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Create_builds_a_vit_tiny_at_64x64_from_224_weights()
    {
        var definition = ModelCatalog.Resolve("vit_tiny_patch16_224");
        var path = Path.Combine(Path.GetTempPath(), $"zoo-a-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (var pretrained = definition.Create(new ModelOptions(definition.Pretrained.NumClasses, 224, 224)))
                SafeTensors.Save(path, pretrained.state_dict());
            using var model = FastaiClassifier.Create(definition, Classes, 64, 64, path);
            Assert.Equal([1L, 1 + 4 * 4, 192], ((VisionTransformer)model.body).pos_embed.shape);
            model.eval();
            using var noGrad = no_grad();
            using var output = model.forward(randn(2, 3, 64, 64));
            Assert.Equal([2L, Classes], output.shape);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static List<string> HeadShape(FastaiClassifier model) => model.head.children().Select(m => m switch
    {
        BatchNorm1d norm => $"BatchNorm1d {norm.Features}",
        Paddy.Pipeline.Models.Layers.Linear linear => $"Linear {linear.InFeatures}->{linear.OutFeatures}",
        _ => m.GetName(),
    }).ToList();
}
