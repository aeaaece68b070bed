using System.Text.Json.Nodes;
using Paddy.Pipeline.IO;
using Paddy.Pipeline.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Models;

/// <summary>What the Swin tests read from the timm fixtures (see <see cref="TimmFixtures"/>): the real models' facts,
/// the block layout tables, and the allclose rule the fixtures were generated for.</summary>
internal static class SwinFixtures
{
    public const double Tolerance = 1e-4;

    public static JsonObject RealModels() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(TimmFixtures.Root, "real_models", "real_models.json")))!.AsObject();

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
}
