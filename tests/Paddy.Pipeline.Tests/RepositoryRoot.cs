namespace Paddy.Pipeline.Tests;

/// <summary>The checkout's root (the folder holding Paddy.Pipeline.sln), found upward from the test assembly.</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "Paddy.Pipeline.sln"))) return directory.FullName;
        throw new InvalidOperationException($"No Paddy.Pipeline.sln above {AppContext.BaseDirectory}.");
    }
}
