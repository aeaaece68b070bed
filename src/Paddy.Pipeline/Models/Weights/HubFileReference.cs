using System.Text.RegularExpressions;

namespace Paddy.Pipeline.Models.Weights;

/// <summary>One file of a model repository on the Hugging Face hub, at a revision (branch, tag or commit hash).</summary>
public sealed partial record HubFileReference(string Organization, string Repository, string Revision)
{
    public const string DefaultRevision = "main";
    public const string FileName = "model.safetensors";

    public string RepoId => $"{Organization}/{Repository}";

    /// <summary>The cache folder name huggingface_hub uses for a model repository.</summary>
    public string CacheFolderName => $"models--{Organization}--{Repository}";

    public bool RevisionIsCommitHash => CommitHashPattern().IsMatch(Revision);

    public Uri ResolveUrl(string endpoint) =>
        new($"{endpoint.TrimEnd('/')}/{RepoId}/resolve/{Uri.EscapeDataString(Revision)}/{FileName}");

    public override string ToString() => $"hf:{RepoId}@{Revision}";

    [GeneratedRegex("^[0-9a-f]{40}$")]
    internal static partial Regex CommitHashPattern();
}
