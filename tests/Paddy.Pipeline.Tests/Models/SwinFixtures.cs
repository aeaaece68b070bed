using System.Text.Json.Nodes;
using Paddy.Pipeline.IO;
using Paddy.Pipeline.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Models;

/// <summary>
/// The timm golden fixtures (shared/fixtures/timm): where they are, their config.json, a by-name weight copy
/// with shape checks, and the allclose rule they were generated for.
/// </summary>
internal static class SwinFixtures
{
    public const double Tolerance = 1e-4;

    private static readonly Lazy<string> root = new(FindRoot);

    /// <summary>TIMM_FIXTURES, else the first shared/fixtures/timm above the test assembly.</summary>
    public static string Root => root.Value;

    public static string PathOf(string fixture, string file) => Path.Combine(Root, fixture, file);

    public static JsonObject Config(string fixture) =>
        JsonNode.Parse(File.ReadAllText(PathOf(fixture, "config.json")))!.AsObject();

    public static JsonObject RealModels() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "real_models", "real_models.json")))!.AsObject();

    /// <summary>Copies every tensor of the file into the parameter of the same name; the names must match the
    /// model's state dict exactly (minus <paramref name="skipped"/>) and every shape must agree.</summary>
    public static void LoadWeights(nn.Module model, string path, IReadOnlySet<string>? skipped = null)
    {
        using var file = SafeTensors.Load(path);
        var target = model.state_dict();
        var source = file.Tensors.Where(t => skipped is null || !skipped.Contains(t.Key)).ToDictionary(t => t.Key, t => t.Value);
        var missing = target.Keys.Except(source.Keys).ToList();
        var unexpected = source.Keys.Except(target.Keys).ToList();
        Assert.True(missing.Count == 0 && unexpected.Count == 0,
            $"{path}: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", unexpected)}]");
        using var noGrad = no_grad();
        foreach (var (name, value) in source)
        {
            Assert.True(target[name].shape.SequenceEqual(value.shape),
                $"{path}: {name} is [{string.Join(", ", value.shape)}] in the file, [{string.Join(", ", target[name].shape)}] in the model");
            target[name].copy_(value);
        }
    }

    /// <summary>torch.allclose's rule |a - e| &lt;= atol + rtol |e|: returns the largest absolute error and the
    /// worst fraction of the allowance (&lt;= 1 passes).</summary>
    public static (double MaxAbsError, double WorstFraction) Compare(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        var error = (actual.to_type(ScalarType.Float64) - expected.to_type(ScalarType.Float64)).abs();
        var allowance = Tolerance + Tolerance * expected.to_type(ScalarType.Float64).abs();
        return (error.max().item<double>(), (error / allowance).max().item<double>());
    }

    /// <summary>Same dtype, same shape, same values.</summary>
    public static bool Identical(Tensor a, Tensor b) =>
        a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    public static void AssertLayouts(JsonArray expected, IReadOnlyList<(string Block, SwinWindowLayout Layout)> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        foreach (var (row, (block, layout)) in expected.Zip(actual))
        {
            Assert.Equal(row!["block"]!.GetValue<string>(), block);
            Assert.Equal(SwinFixtures.Shape(row["input_resolution"]), new long[] { layout.Height, layout.Width });
            Assert.Equal(SwinFixtures.Shape(row["window_size"]), new long[] { layout.WindowHeight, layout.WindowWidth });
            Assert.Equal(SwinFixtures.Shape(row["shift_size"]), new long[] { layout.ShiftHeight, layout.ShiftWidth });
            Assert.Equal(row["has_attn_mask"]!.GetValue<bool>(), layout.IsShifted);
        }
    }

    /// <summary>The state_dict.txt files list "name TAB [shape] TAB dtype"; this renders ours the same way.</summary>
    public static string StateDictLine(string name, Tensor value) =>
        $"{name}\t[{string.Join(", ", value.shape)}]\t{value.dtype.ToString().ToLowerInvariant()}";

    public static List<string> ExpectedLines(IEnumerable<string> stateDictTxt) => stateDictTxt
        .Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();

    public static long[] Shape(JsonNode? node) => node!.AsArray().Select(n => n!.GetValue<long>()).ToArray();

    private static string FindRoot()
    {
        if (Environment.GetEnvironmentVariable("TIMM_FIXTURES") is { Length: > 0 } configured)
            return Directory.Exists(configured)
                ? configured
                : throw new DirectoryNotFoundException($"TIMM_FIXTURES is set to '{configured}', which does not exist.");
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "fixtures", "timm");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException(
            $"No shared/fixtures/timm above {AppContext.BaseDirectory}. Set TIMM_FIXTURES to the fixture folder.");
    }
}
