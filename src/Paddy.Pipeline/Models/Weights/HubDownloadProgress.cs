namespace Paddy.Pipeline.Models.Weights;

/// <summary>How far one download has come.</summary>
/// <param name="Id">The weights id being downloaded, for labels.</param>
/// <param name="BytesDone">Bytes on disk, including those kept from an earlier partial download.</param>
/// <param name="TotalBytes">The file's size.</param>
/// <param name="BytesPerSecond">The transfer rate of this attempt so far.</param>
public readonly record struct HubDownloadProgress(string Id, long BytesDone, long TotalBytes, double BytesPerSecond)
{
    public double Fraction => TotalBytes <= 0 ? 1 : (double)BytesDone / TotalBytes;
}
