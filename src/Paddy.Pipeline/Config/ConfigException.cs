namespace Paddy.Pipeline.Config;

/// <summary>A mistake in a pipeline file, reported as file(line,column) with what to write instead.</summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string file, long line, long column, string message)
        : base($"{file}({line},{column}): {message}")
    {
        File = file;
        Line = line;
        Column = column;
    }

    public string File { get; }
    public long Line { get; }
    public long Column { get; }
}
