using System.Text.Json.Nodes;
using Paddy.Pipeline.IO;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Models;

/// <summary>Finds the timm golden fixtures: $TIMM_FIXTURES, else a shared/fixtures/timm folder above the test assembly.</summary>
public static class TimmFixtures
{
    private const string RelativeRoot = "shared/fixtures/timm";

    public static string Root { get; } = FindRoot();

    public static IEnumerable<string> FixtureNames() =>
        Directory.GetDirectories(Root)
            .Where(d => File.Exists(Path.Combine(d, "config.json")))
            .Select(Path.GetFileName)
            .OfType<string>()
            .Order(StringComparer.Ordinal);

    public static string PathOf(string fixture, string file) => Path.Combine(Root, fixture, file);

    public static JsonObject Config(string fixture) =>
        JsonNode.Parse(File.ReadAllText(PathOf(fixture, "config.json")))!.AsObject();

    public static Tensor Expected(string fixture, string name)
    {
        using var file = SafeTensors.Load(PathOf(fixture, "expected.safetensors"));
        return file[name].clone();
    }

    public static Tensor Input(string fixture)
    {
        using var file = SafeTensors.Load(PathOf(fixture, "input.safetensors"));
        return file["input"].clone();
    }

    private static string FindRoot()
    {
        if (Environment.GetEnvironmentVariable("TIMM_FIXTURES") is { Length: > 0 } configured)
            return Directory.Exists(configured)
                ? configured
                : throw new DirectoryNotFoundException($"TIMM_FIXTURES points at '{configured}', which does not exist. Point it at the timm fixtures folder or unset it.");
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, RelativeRoot);
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException(
            $"No {RelativeRoot} folder above {AppContext.BaseDirectory}. Put shared/ beside the checkout or set TIMM_FIXTURES.");
    }
}
