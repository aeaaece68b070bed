namespace Paddy.Pipeline.Training;

/// <summary>fine_tune's two phases: body frozen (head and norm layers train), then everything unfrozen.</summary>
public enum TrainingPhase
{
    Frozen,
    Unfrozen,
}
