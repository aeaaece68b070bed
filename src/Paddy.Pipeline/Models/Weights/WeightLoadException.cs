namespace Paddy.Pipeline.Models.Weights;

/// <summary>A weights file that does not fit the model, with every offending key by name.</summary>
public sealed class WeightLoadException : Exception
{
    public WeightLoadException(string message, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected,
        IReadOnlyList<string> mismatched) : base(message)
    {
        Missing = missing;
        Unexpected = unexpected;
        Mismatched = mismatched;
    }

    /// <summary>Model keys the file lacks.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>File keys the model lacks.</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>Keys present in both whose shape, type or (for non-persistent buffers) value disagree.</summary>
    public IReadOnlyList<string> Mismatched { get; }
}
