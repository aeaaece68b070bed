using Paddy.Pipeline.IO;
using Paddy.Pipeline.Models;
using Paddy.Pipeline.Models.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Models;

public sealed class WeightLoaderTests
{
    /// <summary>A parameter, a child Linear, a persistent buffer and a non-persistent one (like Swin's tables).</summary>
    private sealed class Tiny : nn.Module<Tensor, Tensor>
    {
        public readonly Parameter scale;
        public readonly Paddy.Pipeline.Models.Layers.Linear fc;
        public readonly Tensor counts;
        public readonly Tensor table;

        public Tiny() : base(nameof(Tiny))
        {
            scale = new Parameter(zeros(3));
            fc = new Paddy.Pipeline.Models.Layers.Linear(3, 2);
            counts = zeros(2, ScalarType.Int64);
            table = arange(4, ScalarType.Int64);
            register_buffer(nameof(table), table, persistent: false);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => fc.forward(x * scale);
    }

    private static SafeTensorsFile FileOf(params (string Name, Tensor Value)[] tensors) =>
        new(tensors.Select(t => new KeyValuePair<string, Tensor>(t.Name, t.Value)).ToList(), new Dictionary<string, string>());

    private static (string, Tensor)[] CompleteFile() =>
    [
        ("scale", tensor(new float[] { 1, 2, 3 })),
        ("fc.weight", arange(6, ScalarType.Float32).reshape(2, 3)),
        ("fc.bias", tensor(new float[] { -1, 1 })),
        ("counts", tensor(new long[] { 7, 8 })),
    ];

    [Fact]
    public void Non_persistent_buffers_stay_out_of_state_dict_and_named_buffers_but_get_buffer_finds_them()
    {
        using var model = new Tiny();
        Assert.Equal(["scale", "fc.weight", "fc.bias", "counts"], model.state_dict().Keys);
        Assert.Equal(["counts"], model.named_buffers().Select(b => b.name));
        Assert.NotNull(model.get_buffer("table"));
        // Module.to converts persistent buffers only: a model must move its non-persistent ones itself.
        model.to(META);
        Assert.Equal(DeviceType.META, model.get_buffer("counts")!.device_type);
        Assert.Equal(DeviceType.CPU, model.get_buffer("table")!.device_type);
    }

    [Fact]
    public void Complete_file_is_copied_by_name()
    {
        using var model = new Tiny();
        using var file = FileOf(CompleteFile());
        WeightLoader.Load(model, file, "tiny.safetensors");
        Assert.Equal([1f, 2f, 3f], model.scale.data<float>().ToArray());
        Assert.Equal([0f, 1f, 2f, 3f, 4f, 5f], model.fc.weight.data<float>().ToArray());
        Assert.Equal([-1f, 1f], model.fc.bias!.data<float>().ToArray());
        Assert.Equal([7L, 8L], model.counts.data<long>().ToArray());
    }

    [Fact]
    public void Half_precision_file_converts_to_the_parameter_type()
    {
        using var model = new Tiny();
        var tensors = CompleteFile();
        tensors[0] = ("scale", tensor(new float[] { 0.5f, 1.5f, -2.25f }).to_type(ScalarType.Float16));
        tensors[1] = ("fc.weight", tensors[1].Item2.to_type(ScalarType.BFloat16));
        using var file = FileOf(tensors);
        WeightLoader.Load(model, file, "half.safetensors");
        Assert.Equal(ScalarType.Float32, model.scale.dtype);
        Assert.Equal([0.5f, 1.5f, -2.25f], model.scale.data<float>().ToArray());
        Assert.Equal([0f, 1f, 2f, 3f, 4f, 5f], model.fc.weight.data<float>().ToArray());
    }

    [Fact]
    public void Missing_unexpected_and_mismatched_keys_are_all_named_in_one_error()
    {
        using var model = new Tiny();
        using var file = FileOf(
            ("scale", zeros(4)),
            ("fc.weight", zeros(2, 3)),
            ("counts", zeros(2, ScalarType.Int64)),
            ("fc.gain", zeros(2)),
            ("extra.bias", zeros(1)));
        var error = Assert.Throws<WeightLoadException>(() => WeightLoader.Load(model, file, "broken.safetensors"));
        Assert.Equal(["fc.bias"], error.Missing);
        Assert.Equal(["fc.gain", "extra.bias"], error.Unexpected);
        Assert.Equal(["scale"], error.Mismatched);
        foreach (var text in new[] { "broken.safetensors", "fc.bias", "fc.gain", "extra.bias", "scale", "[4]", "[3]", "Fix:" })
            Assert.Contains(text, error.Message);
        Assert.Equal([0f, 0f, 0f], model.scale.data<float>().ToArray());
    }

    [Fact]
    public void Single_element_tensor_is_not_broadcast_into_a_vector()
    {
        using var model = new Tiny();
        var tensors = CompleteFile();
        tensors[0] = ("scale", ones(1));
        using var file = FileOf(tensors);
        var error = Assert.Throws<WeightLoadException>(() => WeightLoader.Load(model, file, "one.safetensors"));
        Assert.Equal(["scale"], error.Mismatched);
        Assert.Empty(error.Missing);
        Assert.Empty(error.Unexpected);
    }

    [Fact]
    public void Integer_buffer_does_not_take_floating_values()
    {
        using var model = new Tiny();
        var tensors = CompleteFile();
        tensors[3] = ("counts", tensor(new float[] { 7.5f, 8 }));
        using var file = FileOf(tensors);
        var error = Assert.Throws<WeightLoadException>(() => WeightLoader.Load(model, file, "counts.safetensors"));
        Assert.Equal(["counts"], error.Mismatched);
    }

    [Fact]
    public void Hub_style_key_for_a_non_persistent_buffer_is_accepted_when_equal()
    {
        using var model = new Tiny();
        using var file = FileOf([.. CompleteFile(), ("table", tensor(new long[] { 0, 1, 2, 3 }))]);
        WeightLoader.Load(model, file, "hub.safetensors");
        Assert.Equal([0L, 1L, 2L, 3L], model.table.data<long>().ToArray());
    }

    [Fact]
    public void Hub_style_key_for_a_non_persistent_buffer_is_refused_when_different()
    {
        using var model = new Tiny();
        using var file = FileOf([.. CompleteFile(), ("table", tensor(new long[] { 3, 2, 1, 0 }))]);
        var error = Assert.Throws<WeightLoadException>(() => WeightLoader.Load(model, file, "hub.safetensors"));
        Assert.Equal(["table"], error.Mismatched);
        Assert.Contains("non-persistent", error.Message);
    }

    [Fact]
    public void Pretrained_classifier_is_dropped_only_on_request_and_head_norm_is_kept()
    {
        int[] depths = [1, 1], dims = [8, 16];
        using var pretrained = new ConvNeXt(depths, dims, numClasses: 5);
        var path = Path.Combine(Path.GetTempPath(), $"zoo-a-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensors.Save(path, pretrained.state_dict());
            using var body = new ConvNeXt(depths, dims, numClasses: 0);
            var error = Assert.Throws<WeightLoadException>(() => WeightLoader.Load(body, path));
            Assert.Equal(["head.fc.weight", "head.fc.bias"], error.Unexpected);

            WeightLoader.Load(body, path, new WeightLoadOptions(DropClassifier: true));
            TensorAssert.Identical(pretrained.head.norm.weight, body.head.norm.weight);
            var bodyWeights = body.state_dict();
            Assert.All(pretrained.state_dict().Where(p => !p.Key.StartsWith("head.fc.")),
                p => TensorAssert.Identical(p.Value, bodyWeights[p.Key], p.Key));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
