using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Paddy.Pipeline.Config;

/// <summary>
/// Reads one YAML mapping against a fixed set of keys, so that every mistake is reported at its own line and
/// column: unknown keys (with the nearest known one), wrong types, out-of-range values.
/// </summary>
internal sealed class YamlFields
{
    private readonly string file;
    private readonly YamlMappingNode mapping;
    private readonly string where;

    private YamlFields(string file, YamlMappingNode mapping, string where)
    {
        this.file = file;
        this.mapping = mapping;
        this.where = where;
    }

    public static YamlFields Of(string file, YamlNode node, string where, params string[] knownKeys)
    {
        if (node is not YamlMappingNode mapping)
            throw Error(file, node, $"{where} must be a mapping of keys to values (key: value), not {Describe(node)}.");
        foreach (var key in mapping.Children.Keys)
        {
            var name = ((YamlScalarNode)key).Value ?? "";
            if (!knownKeys.Contains(name))
            {
                var nearest = knownKeys.OrderBy(k => EditDistance(k, name)).First();
                var hint = EditDistance(nearest, name) <= 2 ? $" Did you mean '{nearest}'?" : "";
                throw Error(file, key, $"unknown key '{name}' in {where}.{hint} Known keys: {string.Join(", ", knownKeys)}.");
            }
        }
        return new YamlFields(file, mapping, where);
    }

    public YamlNode Node => mapping;

    public YamlNode? Optional(string key) =>
        mapping.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    public YamlNode Required(string key, string example) =>
        Optional(key) ?? throw Error(file, mapping, $"{where} has no '{key}'. Add it, for example: {key}: {example}");

    public string String(YamlNode node, string key)
    {
        if (node is not YamlScalarNode { Value: { Length: > 0 } value })
            throw Error(file, node, $"{where}.{key} must be a non-empty text value, not {Describe(node)}.");
        return value;
    }

    public int Int(YamlNode node, string key, int min)
    {
        if (node is not YamlScalarNode scalar
            || !int.TryParse(scalar.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            throw Error(file, node, $"{where}.{key} must be a whole number, not {Describe(node)}.");
        if (value < min)
            throw Error(file, node, $"{where}.{key} is {value}; it must be at least {min}.");
        return value;
    }

    public double Double(YamlNode node, string key, double min, double max, bool minExclusive)
    {
        if (node is not YamlScalarNode scalar
            || !double.TryParse(scalar.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            || !double.IsFinite(value))
            throw Error(file, node, $"{where}.{key} must be a number, not {Describe(node)}.");
        if (value > max || (minExclusive ? value <= min : value < min))
            throw Error(file, node,
                $"{where}.{key} is {scalar.Value}; it must be {(minExclusive ? "greater than" : "at least")} {min.ToString(CultureInfo.InvariantCulture)} and at most {max.ToString(CultureInfo.InvariantCulture)}.");
        return value;
    }

    public bool Bool(YamlNode node, string key)
    {
        if (node is YamlScalarNode { Value: "true" or "false" } scalar) return scalar.Value == "true";
        throw Error(file, node, $"{where}.{key} must be true or false, not {Describe(node)}.");
    }

    public TEnum Enum<TEnum>(YamlNode node, string key) where TEnum : struct, System.Enum
    {
        var values = System.Enum.GetValues<TEnum>();
        var names = values.Select(YamlNames.Of).ToArray();
        if (node is YamlScalarNode { Value: { } value } && Array.IndexOf(names, value) is var index and >= 0)
            return values[index];
        throw Error(file, node, $"{where}.{key} must be one of {string.Join(", ", names)}, not {Describe(node)}.");
    }

    /// <summary>A size written as one number (square) or as [height, width].</summary>
    public ImageSize Size(YamlNode node, string key)
    {
        int Positive(YamlNode n)
        {
            if (n is YamlScalarNode s && int.TryParse(s.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            {
                if (v > 0) return v;
                throw Error(file, n, $"{where}.{key} has the size {v}; sizes are positive numbers of pixels, for example {key}: [320, 224] (height, width).");
            }
            throw Error(file, n, $"{where}.{key} must be a number of pixels or [height, width], not {Describe(n)}.");
        }

        return node switch
        {
            YamlSequenceNode { Children.Count: 2 } seq => new ImageSize(Positive(seq[0]), Positive(seq[1])),
            YamlSequenceNode seq => throw Error(file, node,
                $"{where}.{key} has {seq.Children.Count} numbers; write one number for a square or [height, width], for example [320, 224]."),
            _ => Square(Positive(node)),
        };

        static ImageSize Square(int side) => new(side, side);
    }

    public ConfigException ErrorAt(YamlNode node, string message) => Error(file, node, message);

    public static ConfigException Error(string file, YamlNode node, string message) =>
        new(file, node.Start.Line, node.Start.Column, message);

    private static string Describe(YamlNode node) => node switch
    {
        YamlScalarNode { Value: { Length: > 0 } v } => $"'{v}'",
        YamlScalarNode => "an empty value",
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        _ => "that",
    };

    private static int EditDistance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
