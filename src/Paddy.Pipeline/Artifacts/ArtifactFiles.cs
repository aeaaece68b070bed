namespace Paddy.Pipeline.Artifacts;

/// <summary>The files a Train task's artifact holds, by name.</summary>
public static class ArtifactFiles
{
    /// <summary>"probabilities" float32 [N_test, classes], TTA softmax, rows in sample_submission order.</summary>
    public const string TestProbabilities = "test_probs.safetensors";

    /// <summary>"probabilities" float32 [N_valid, classes], "targets" int64 [N_valid], "items" int64 [N_valid]
    /// (indices into the sorted training items), on the task's own validation split.</summary>
    public const string ValidPredictions = "valid_preds.safetensors";

    public const string History = "history.csv";

    /// <summary>lr and beta1 per group at every training batch.</summary>
    public const string Schedule = "schedule.csv";
    public const string Log = "train.log";

    public const string ProbabilitiesKey = "probabilities";
    public const string TargetsKey = "targets";
    public const string ItemsKey = "items";
}
