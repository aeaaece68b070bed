using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Paddy.Pipeline.Models.Weights;

/// <summary>
/// The check an ETag allows: an LFS file's ETag is its SHA-256; a file kept in git has the git blob SHA-1
/// (SHA-1 of "blob {size}\0" and the bytes). Anything else can only be checked by size.
/// </summary>
internal sealed partial class HubContentHash : IDisposable
{
    private readonly IncrementalHash? _hash;
    private readonly long _size;

    public HubContentHash(string etag, long size)
    {
        _size = size;
        Algorithm = Sha256Pattern().IsMatch(etag) ? "SHA-256" : Sha1Pattern().IsMatch(etag) ? "git blob SHA-1" : null;
        _hash = Algorithm switch
        {
            "SHA-256" => IncrementalHash.CreateHash(HashAlgorithmName.SHA256),
            "git blob SHA-1" => IncrementalHash.CreateHash(HashAlgorithmName.SHA1),
            _ => null,
        };
        Restart();
    }

    /// <summary>Null when the ETag is not a hash, so only the size is checked.</summary>
    public string? Algorithm { get; }

    /// <summary>Forgets the bytes seen so far, for a download that starts over.</summary>
    public void Restart()
    {
        if (_hash is null)
            return;
        _hash.GetHashAndReset();
        if (Algorithm == "git blob SHA-1")
            _hash.AppendData(Encoding.ASCII.GetBytes($"blob {_size}\0"));
    }

    public void Append(ReadOnlySpan<byte> bytes) => _hash?.AppendData(bytes);

    public string? HexDigest() => _hash is null ? null : Convert.ToHexStringLower(_hash.GetCurrentHash());

    public void Dispose() => _hash?.Dispose();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Pattern();

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex Sha1Pattern();
}
