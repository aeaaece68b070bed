using System.Text.Json.Nodes;
using Paddy.Pipeline.IO;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Models;

/// <summary>
/// Finds the timm golden fixtures: $TIMM_FIXTURES, else the repository's tests/fixtures/timm (found above the test
/// assembly). Every folder there but real_models is a fixture.
/// </summary>
public static class TimmFixtures
{
    private const string RelativeRoot = "tests/fixtures/timm";
    private const string RealModelsFolder = "real_models";

    public static string Root { get; } = FindRoot();

    /// <summary>Every fixture folder, readable or not: one that lacks its files fails its test rather than vanishing.</summary>
    public static IEnumerable<string> FixtureNames() => FixtureNamesIn(Root);

    public static IEnumerable<string> FixtureNamesIn(string root) =>
        Directory.GetDirectories(root)
            .Select(Path.GetFileName)
            .Where(name => name != RealModelsFolder)
            .OfType<string>()
            .Order(StringComparer.Ordinal);

    public static string PathOf(string fixture, string file) => Path.Combine(Root, fixture, file);

    public static JsonObject Config(string fixture) => ConfigIn(Root, fixture);

    public static JsonObject ConfigIn(string root, string fixture)
    {
        var path = Path.Combine(root, fixture, "config.json");
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"The timm fixture folder {Path.Combine(root, fixture)} has no config.json. Regenerate it as " +
                $"{Path.Combine(root, "README.md")} says, or remove the folder.", path);
        return JsonNode.Parse(File.ReadAllText(path))!.AsObject();
    }

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
            $"No {RelativeRoot} folder above {AppContext.BaseDirectory}. Run the tests from a checkout of the repository, " +
            "which holds the fixtures, or set TIMM_FIXTURES to a copy of them.");
    }
}
