namespace Paddy.Pipeline.Models.Weights;

/// <summary>
/// An exclusive lock on .locks/models--{org}--{name}/{etag}.lock, so parallel workers download a blob once.
/// .NET takes an advisory flock for FileShare.None, the same lock huggingface_hub's filelock takes on Unix, and the
/// operating system releases it when a process dies.
/// </summary>
internal sealed class HubFileLock : IDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(250);
    private readonly FileStream _stream;

    private HubFileLock(FileStream stream) => _stream = stream;

    public static async Task<HubFileLock> AcquireAsync(string path, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        while (true)
        {
            try
            {
                return new HubFileLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException)
            {
                // Another process holds it while it downloads; waiting ends when it finishes or the caller cancels.
                await Task.Delay(RetryDelay, ct);
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
