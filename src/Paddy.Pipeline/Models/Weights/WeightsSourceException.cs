namespace Paddy.Pipeline.Models.Weights;

/// <summary>A weights id that cannot be resolved to a file; the message names the id, where it looked and the fix.</summary>
public class WeightsSourceException : Exception
{
    public WeightsSourceException(string message) : base(message) { }

    public WeightsSourceException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>The hub could not be asked (no connection, server error), so a cached copy may still serve.</summary>
internal sealed class HubUnreachableException : WeightsSourceException
{
    public HubUnreachableException(string message) : base(message) { }

    public HubUnreachableException(string message, Exception innerException) : base(message, innerException) { }
}
