using System.Text.Json.Nodes;

namespace Paddy.Pipeline.Training.Checkpoints;

/// <summary>A callback whose state must survive an interruption for a resumed run to match an uninterrupted one.</summary>
internal interface ICheckpointed
{
    /// <summary>Names the state inside the checkpoint; unique per learner.</summary>
    string StateKey { get; }

    JsonNode SaveState();

    /// <summary>Called after BeforeFit of the phase being resumed, so it overrides what BeforeFit reset.</summary>
    void LoadState(JsonNode state);
}
