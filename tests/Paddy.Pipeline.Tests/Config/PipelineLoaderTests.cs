using Paddy.Pipeline.Config;

namespace Paddy.Pipeline.Tests.Config;

public sealed class PipelineLoaderTests : IDisposable
{
    private sealed class Catalog : IArchitectureCatalog
    {
        public IReadOnlyCollection<string> Names { get; } = ["convnext_atto", "vit_tiny_patch16_224"];
        public string DefaultWeights(string arch) => $"hf:timm/{arch}.default";
    }

    private readonly TestDirectory directory = new();

    public PipelineLoaderTests() => Directory.CreateDirectory(Path.Combine(directory.Path, "data"));

    public void Dispose() => directory.Dispose();

    private PipelineConfig Load(string yaml) =>
        PipelineLoader.Parse(yaml, Path.Combine(directory.Path, "pipeline.yaml"), new Catalog());

    private ConfigException Error(string yaml) => Assert.Throws<ConfigException>(() => Load(yaml));

    private const string Valid = """
        name: demo
        data:
          root: data
        models:
          - arch: convnext_atto
            size: [64, 48]
        """;

    [Fact]
    public void Defaults_are_fastai_fine_tune_12_at_0_01_with_tta_4_and_beta_0_25()
    {
        var pipeline = Load(Valid);
        var model = Assert.Single(pipeline.Models);
        Assert.Equal(42, pipeline.Seed);
        Assert.Equal(Path.Combine(directory.Path, "data"), pipeline.Data.Root);
        Assert.Equal(0.2, pipeline.Data.ValidPct);
        Assert.Equal("hf:timm/convnext_atto.default", model.Weights);
        Assert.Equal(new ImageSize(64, 48), model.Size);
        Assert.Equal(new ItemResize(new ImageSize(64, 48), ResizeMethod.Crop), model.Resize);
        Assert.Equal(new TrainingSettings(12, 1, 0.01, 64, 1, Precision.Fp16, new TtaSettings(4, 0.25)), model.Training);
        Assert.Equal("Train:convnext_atto:crop-64x48:64x48", model.TaskName);
    }

    [Fact]
    public void Per_model_training_overrides_the_pipeline_defaults_and_sizes_are_height_then_width()
    {
        var pipeline = Load("""
            name: demo
            seed: 7
            data: { root: data, valid_pct: 0.25 }
            training: { epochs: 3, batch_size: 32, accum: 2, precision: bf16 }
            models:
              - arch: convnext_atto
                resize: { method: squish, size: 480 }
                size: [320, 224]
                ensemble_weight: 2
                training: { epochs: 5, lr: 0.002 }
            """);
        var model = pipeline.Models[0];
        Assert.Equal(7, pipeline.Seed);
        Assert.Equal(new TrainingSettings(5, 1, 0.002, 32, 2, Precision.Bf16, new TtaSettings(4, 0.25)), model.Training);
        Assert.Equal(16, model.Training.MicroBatchSize);
        Assert.Equal(new ItemResize(new ImageSize(480, 480), ResizeMethod.Squish), model.Resize);
        Assert.Equal(320, model.Size.Height);
        Assert.Equal(224, model.Size.Width);
        Assert.Equal(2, model.EnsembleWeight);
        Assert.Equal("Train:convnext_atto:squish-480x480:320x224", model.TaskName);
    }

    [Fact]
    public void Method_defaults_to_fine_tune_is_set_under_training_and_overridden_per_model()
    {
        Assert.Equal(TrainingMethod.FineTune, Load(Valid).Models[0].Training.Method);
        var pipeline = Load("""
            name: demo
            data: { root: data }
            training: { method: fit_one_cycle, epochs: 3 }
            models:
              - arch: convnext_atto
                size: 64
              - arch: vit_tiny_patch16_224
                size: 64
                training: { method: fine_tune }
            """);
        Assert.Equal(TrainingMethod.FitOneCycle, pipeline.Models[0].Training.Method);
        Assert.Equal(3, pipeline.Models[0].Training.Epochs);
        Assert.Equal(TrainingMethod.FineTune, pipeline.Models[1].Training.Method);
        Assert.Equal(3, pipeline.Models[1].Training.Epochs);
        var described = PipelineDescription.Render(pipeline);
        Assert.Contains("      method: fit_one_cycle\n      epochs: 3\n      lr:", described.ReplaceLineEndings("\n"));
        Assert.Contains("      method: fine_tune\n      epochs: 3\n      freeze_epochs: 1\n", described.ReplaceLineEndings("\n"));
    }

    [Theory]
    [InlineData("fit-one-cycle")]
    [InlineData("FitOneCycle")]
    [InlineData("[fine_tune]")]
    public void An_unknown_method_is_refused_where_it_is_written_with_the_two_choices(string method)
    {
        var e = Error($"""
            name: demo
            data: {"{"} root: data {"}"}
            models:
              - arch: convnext_atto
                size: 64
                training:
                  method: {method}
            """);
        Assert.Equal((7, 15), ((int)e.Line, (int)e.Column));
        Assert.Contains("models[0].training.method must be one of fine_tune, fit_one_cycle", e.Message);
    }

    [Fact]
    public void Unknown_key_names_its_line_and_column_and_suggests_the_nearest_key()
    {
        var e = Error("""
            name: demo
            data: { root: data }
            models:
              - arch: convnext_atto
                szie: 64
            """);
        Assert.Equal((5, 5), (e.Line, e.Column));
        Assert.StartsWith("pipeline.yaml(5,5): unknown key 'szie' in models[0]. Did you mean 'size'?", e.Message);
    }

    [Fact]
    public void Unknown_architecture_lists_the_known_ones()
    {
        var e = Error("""
            name: demo
            data: { root: data }
            models:
              - arch: resnet50
                size: 64
            """);
        Assert.Equal((4, 11), (e.Line, e.Column));
        Assert.Contains("unknown architecture 'resnet50'", e.Message);
        Assert.Contains("Known: convnext_atto, vit_tiny_patch16_224", e.Message);
    }

    [Theory]
    [InlineData("[0, 64]", 5, 12)]
    [InlineData("-3", 5, 11)]
    public void Non_positive_sizes_are_refused_where_they_are_written(string size, int line, int column)
    {
        var e = Error($"""
            name: demo
            data: {"{"} root: data {"}"}
            models:
              - arch: convnext_atto
                size: {size}
            """);
        Assert.Equal((line, column), ((int)e.Line, (int)e.Column));
        Assert.Contains("sizes are positive", e.Message);
    }

    [Fact]
    public void Accum_that_does_not_divide_the_batch_size_says_which_would()
    {
        var e = Error("""
            name: demo
            data: { root: data }
            training:
              batch_size: 64
              accum: 3
            models:
              - arch: convnext_atto
                size: 64
            """);
        Assert.Equal((5, 10), (e.Line, e.Column));
        Assert.Contains("accum 3 does not divide batch_size 64", e.Message);
        Assert.Contains("1, 2, 4, 8, 16, 32", e.Message);
    }

    [Fact]
    public void Missing_data_folder_is_reported_at_data_root()
    {
        var e = Error("""
            name: demo
            data:
              root: ./input
            models:
              - arch: convnext_atto
                size: 64
            """);
        Assert.Equal((3, 9), (e.Line, e.Column));
        Assert.Contains($"{Path.Combine(directory.Path, "input")} does not exist", e.Message);
    }

    [Fact]
    public void Invalid_yaml_and_wrong_types_name_their_place()
    {
        var broken = Error("name: demo\ndata: { root: data\nmodels: []\n");
        Assert.Contains("not valid YAML", broken.Message);
        var wrongType = Error("name: demo\ndata: { root: data, valid_pct: lots }\nmodels: [ { arch: convnext_atto, size: 64 } ]\n");
        Assert.Equal((2, 32), (wrongType.Line, wrongType.Column));
        Assert.Contains("data.valid_pct must be a number, not 'lots'", wrongType.Message);
    }

    [Fact]
    public void A_repeated_combination_is_refused()
    {
        var e = Error("""
            name: demo
            data: { root: data }
            models:
              - { arch: convnext_atto, size: 64 }
              - { arch: convnext_atto, size: 64 }
            """);
        Assert.Equal(5, e.Line);
        Assert.Contains("repeats the combination", e.Message);
    }

    [Fact]
    public void Describe_renders_every_resolved_default()
    {
        var text = PipelineDescription.Render(Load(Valid));
        Assert.Contains("accum: 1", text);
        Assert.Contains("tta: { n: 4, beta: 0.25 }", text);
        Assert.Contains("size: [64, 48]", text);
        Assert.Contains("weights: hf:timm/convnext_atto.default", text);
    }
}
