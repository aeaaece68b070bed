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

    public Uri ResolveUrl(string endpoint)
    {
        var url = $"{endpoint.TrimEnd('/')}/{RepoId}/resolve/{Uri.EscapeDataString(Revision)}/{FileName}";
        return Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new WeightsSourceException(
                $"The hub endpoint '{endpoint}' (HF_ENDPOINT) is not an http or https address, so {this} cannot be " +
                $"fetched. Set HF_ENDPOINT to an address such as {HubOptions.DefaultEndpoint}, or unset it.");
    }

    public override string ToString() => $"hf:{RepoId}@{Revision}";

    [GeneratedRegex("^[0-9a-f]{40}$")]
    internal static partial Regex CommitHashPattern();
}
