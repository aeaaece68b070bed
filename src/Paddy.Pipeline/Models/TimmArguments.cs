using System.Text.Json.Nodes;

namespace Paddy.Pipeline.Models;

/// <summary>
/// Reads timm constructor keyword arguments (as recorded in a fixture's config.json) for one model class.
/// Every key must be read exactly once through this object, so that an argument we do not implement is an
/// error instead of a silently different model.
/// </summary>
public sealed class TimmArguments
{
    private readonly JsonObject kwargs;
    private readonly string modelClass;
    private readonly HashSet<string> read = new(StringComparer.Ordinal);

    public TimmArguments(string modelClass, JsonObject kwargs)
    {
        this.modelClass = modelClass;
        this.kwargs = kwargs;
    }

    public int Int(string name, int defaultValue) =>
        Read(name) is { } node ? node.GetValue<int>() : defaultValue;

    /// <summary>A float that timm also accepts as None (JSON null), which switches the feature off.</summary>
    public double? NullableDouble(string name, double? defaultValue)
    {
        var present = kwargs.ContainsKey(name);
        var node = Read(name);
        return present ? node?.GetValue<double>() : defaultValue;
    }

    public double Double(string name, double defaultValue) =>
        Read(name) is { } node ? node.GetValue<double>() : defaultValue;

    public bool Bool(string name, bool defaultValue) =>
        Read(name) is { } node ? node.GetValue<bool>() : defaultValue;

    public int[] IntList(string name, int[] defaultValue) =>
        Read(name) is JsonArray array ? array.Select(n => n!.GetValue<int>()).ToArray() : defaultValue;

    /// <summary>timm's to_2tuple: a single int means (n, n); a pair is (height, width).</summary>
    public (int Height, int Width) IntPair(string name, (int, int) defaultValue) => Read(name) switch
    {
        null => defaultValue,
        JsonArray { Count: 2 } pair => (pair[0]!.GetValue<int>(), pair[1]!.GetValue<int>()),
        JsonValue single => (single.GetValue<int>(), single.GetValue<int>()),
        var other => throw new ArgumentException(
            $"{modelClass} argument '{name}' must be an int or a pair of ints, not {other.ToJsonString()}."),
    };

    /// <summary>Throws when kwargs holds an argument that no reader asked for.</summary>
    public void EnsureAllRead()
    {
        var unknown = kwargs.Select(p => p.Key).Where(k => !read.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException(
                $"{modelClass} does not implement the timm argument(s) {string.Join(", ", unknown)}. " +
                $"Supported here: {string.Join(", ", read.Order(StringComparer.Ordinal))}. " +
                "Remove them from the constructor arguments or port that option first.");
    }

    private JsonNode? Read(string name)
    {
        read.Add(name);
        return kwargs.TryGetPropertyValue(name, out var node) ? node : null;
    }
}
