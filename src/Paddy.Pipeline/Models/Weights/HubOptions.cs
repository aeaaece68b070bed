namespace Paddy.Pipeline.Models.Weights;

/// <summary>
/// Where hub files come from and where they are cached. Read from the environment variables huggingface_hub reads,
/// so Python and this pipeline share one cache.
/// </summary>
public sealed class HubOptions
{
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>Base address such as https://huggingface.co, without a trailing slash.</summary>
    public required string Endpoint { get; init; }

    /// <summary>The hub cache root, holding the models--{org}--{name} folders.</summary>
    public required string CacheDirectory { get; init; }

    /// <summary>When true no request is made; only files already in the cache resolve.</summary>
    public bool Offline { get; init; }

    /// <summary>Sent as a bearer token, for gated or private repositories.</summary>
    public string? Token { get; init; }

    /// <summary>How long the metadata request may take before the hub counts as unreachable.</summary>
    public TimeSpan MetadataTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a download may receive nothing before it counts as interrupted (its partial file is kept).</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public static HubOptions FromEnvironment() =>
        FromVariables(Environment.GetEnvironmentVariable, Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    // The precedence mirrors huggingface_hub's constants.py: HF_HUB_CACHE, then HUGGINGFACE_HUB_CACHE, then
    // $HF_HOME/hub, with HF_HOME defaulting to $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface.
    internal static HubOptions FromVariables(Func<string, string?> variable, string homeDirectory)
    {
        string? Get(string name) => variable(name) is { Length: > 0 } value ? value : null;
        string ExpandHome(string path) =>
            path == "~" || path.StartsWith("~/", StringComparison.Ordinal) ? homeDirectory + path[1..] : path;

        var hfHome = ExpandHome(Get("HF_HOME")
            ?? Path.Combine(Get("XDG_CACHE_HOME") ?? Path.Combine(homeDirectory, ".cache"), "huggingface"));
        var cacheDirectory = ExpandHome(Get("HF_HUB_CACHE") ?? Get("HUGGINGFACE_HUB_CACHE") ?? Path.Combine(hfHome, "hub"));
        var tokenPath = ExpandHome(Get("HF_TOKEN_PATH") ?? Path.Combine(hfHome, "token"));
        return new HubOptions
        {
            Endpoint = (Get("HF_ENDPOINT") ?? DefaultEndpoint).TrimEnd('/'),
            CacheDirectory = cacheDirectory,
            Offline = IsTrue(Get("HF_HUB_OFFLINE") ?? Get("TRANSFORMERS_OFFLINE")),
            Token = Get("HF_TOKEN") ?? Get("HUGGING_FACE_HUB_TOKEN") ?? ReadTokenFile(tokenPath),
        };
    }

    private static bool IsTrue(string? value) =>
        value is not null && value.Trim().ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";

    private static string? ReadTokenFile(string path) =>
        File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } token ? token : null;

    // The token must never reach logs through a default ToString.
    public override string ToString() =>
        $"endpoint {Endpoint}, cache {CacheDirectory}, offline {Offline}, token {(Token is null ? "absent" : "set")}";
}
