using System.Text.Json;

namespace Paddy.Pipeline.Artifacts;

/// <summary>One model as the submission used it: the artifact's fingerprint and the weight it was given.</summary>
public sealed record EnsembleMemberRecord(string Task, string Fingerprint, double Weight);

/// <summary>
/// What submission.csv was made from, written beside it, so that Status can say whether the ensemble is current
/// (the submission alone cannot tell which artifacts or weights produced it).
/// </summary>
public sealed record EnsembleRecord(IReadOnlyList<EnsembleMemberRecord> Members)
{
    public const string FileName = "ensemble.json";

    /// <summary>The record in <paramref name="pipelineDirectory"/>, or null when no ensemble was made there.</summary>
    /// <exception cref="InvalidDataException">The file is there but damaged (truncated, not this record).</exception>
    public static EnsembleRecord? Read(string pipelineDirectory)
    {
        var path = Path.Combine(pipelineDirectory, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            var record = JsonSerializer.Deserialize<EnsembleRecord>(File.ReadAllText(path), ArtifactManifest.Json);
            return record?.Members is not null ? record : throw new JsonException("it lists no members");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException(
                $"{path} is damaged ({e.Message.Split('\n')[0]}). Delete it; --target=Ensemble (or Submit) writes it again from the finished models.", e);
        }
    }

    public void Write(string pipelineDirectory)
    {
        var path = Path.Combine(pipelineDirectory, FileName);
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, ArtifactManifest.Json));
        File.Move(temporary, path, overwrite: true);
    }
}
