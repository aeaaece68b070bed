using Paddy.Pipeline.Models;
using Paddy.Pipeline.Models.Weights;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Models;

/// <summary>Every timm fixture folder: our port, loaded strictly from timm's state dict, reproduces timm's outputs.</summary>
public sealed class TimmFixtureTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string> Fixtures() => new(TimmFixtures.FixtureNames());

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Port_reproduces_timm_features_pre_logits_and_logits(string fixture)
    {
        var config = TimmFixtures.Config(fixture);
        using var model = Build(config);
        WeightLoader.Load(model, TimmFixtures.PathOf(fixture, "weights.safetensors"));
        using var input = TimmFixtures.Input(fixture);
        using var noGrad = no_grad();
        using var features = model.forward_features(input);
        using var preLogits = model.forward_head(features, preLogits: true);
        using var logits = model.forward(input);

        AssertClose(fixture, "features", features);
        AssertClose(fixture, "pre_logits", preLogits);
        AssertClose(fixture, "logits", logits);

        // Swin hub files carry the then-persistent buffers; they must be checked and skipped, not change the result.
        var hubStyle = TimmFixtures.PathOf(fixture, "weights_hubstyle.safetensors");
        if (File.Exists(hubStyle))
        {
            using var hubModel = Build(config);
            WeightLoader.Load(hubModel, hubStyle);
            using var hubLogits = hubModel.forward(input);
            TensorAssert.Identical(logits, hubLogits, $"{fixture}: hub-style weights give different logits");
        }
    }

    [Fact]
    public void A_fixture_folder_without_its_files_is_listed_and_refused_by_name_not_skipped()
    {
        var root = Directory.CreateTempSubdirectory("timm-fixtures-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "broken"));
            Directory.CreateDirectory(Path.Combine(root, "real_models"));
            Assert.Equal(["broken"], TimmFixtures.FixtureNamesIn(root));
            var error = Assert.Throws<FileNotFoundException>(() => TimmFixtures.ConfigIn(root, "broken"));
            Assert.Contains(Path.Combine(root, "broken"), error.Message);
            Assert.Contains("config.json", error.Message);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void The_repository_holds_every_fixture_the_tests_name()
    {
        Assert.Equal(["convnext", "convnext_nonsquare", "swin", "swinv2", "vit"], TimmFixtures.FixtureNames());
    }

    [Fact]
    public void Unknown_model_class_is_refused_with_the_ported_classes_named()
    {
        var error = Assert.Throws<NotSupportedException>(() =>
            TimmArchitectures.Create("timm.models.resnet.ResNet", new System.Text.Json.Nodes.JsonObject()));
        Assert.Contains("ResNet", error.Message);
        Assert.Contains("ConvNeXt", error.Message);
        Assert.Contains("Models/TimmArchitectures.cs", error.Message);
    }

    private static TimmModel Build(System.Text.Json.Nodes.JsonObject config)
    {
        var model = TimmArchitectures.Create(config["model_class"]!.GetValue<string>(), config["constructor_kwargs"]!.AsObject());
        model.eval();
        return model;
    }

    private void AssertClose(string fixture, string name, Tensor actual)
    {
        using var expected = TimmFixtures.Expected(fixture, name);
        Assert.Equal(expected.shape, actual.shape);
        using var difference = (actual - expected).abs();
        using var allowed = expected.abs() * Tolerance + Tolerance;
        var maxError = difference.max().item<float>();
        var worstFraction = (difference / allowed).max().item<float>();
        output.WriteLine($"{fixture} {name}: max abs error {maxError:E2}, worst {worstFraction:F3} of the tolerance");
        Assert.True(worstFraction <= 1, $"{fixture} {name}: max abs error {maxError:E3} exceeds atol=rtol={Tolerance}.");
    }
}
