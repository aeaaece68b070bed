using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Paddy.Pipeline.Artifacts;

public sealed record ArtifactFile(string Sha256, long Bytes);

/// <summary>What a finished Train task recorded: its fingerprint and inputs, every file's hash, and its figures.</summary>
public sealed record ArtifactManifest
{
    public const string FileName = "manifest.json";

    public required string Task { get; init; }
    public required string Fingerprint { get; init; }
    public required JsonObject FingerprintInputs { get; init; }
    public required IReadOnlyList<string> Vocab { get; init; }
    public required double ValidError { get; init; }
    public required double ValidLoss { get; init; }
    public required int ValidCount { get; init; }
    /// <summary>Test image ids in sample_submission order: the rows of the test probabilities.</summary>
    public required IReadOnlyList<string> TestIds { get; init; }
    public required string Device { get; init; }
    public required string Precision { get; init; }
    public required double TrainSeconds { get; init; }
    public long? PeakMemoryBytes { get; init; }
    public IReadOnlyList<string> SkippedBadImages { get; init; } = [];
    public IReadOnlyDictionary<string, ArtifactFile> Files { get; init; } = new Dictionary<string, ArtifactFile>();

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static ArtifactManifest Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<ArtifactManifest>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"{path} is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a valid artifact manifest ({e.Message}). Delete its folder to retrain it.", e);
        }
    }

    public void Write(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));
}
