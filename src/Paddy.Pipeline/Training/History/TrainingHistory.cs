using System.Globalization;

namespace Paddy.Pipeline.Training.History;

/// <summary>What training did: one record per finished epoch and the schedule of every training batch.</summary>
public sealed class TrainingHistory
{
    private readonly List<EpochRecord> epochs = [];
    private readonly List<ScheduleRecord> batches = [];

    public TrainingHistory(IReadOnlyList<string> groupNames)
    {
        var unfit = groupNames.FirstOrDefault(n => n.Length == 0 || n.Any(c => c is ',' or '"' or '\n' or '\r'));
        if (unfit is not null)
            throw new ArgumentException($"Parameter group name '{unfit}' cannot name a history.csv column; use letters, digits and underscores.", nameof(groupNames));
        GroupNames = groupNames;
    }

    public IReadOnlyList<string> GroupNames { get; }
    public IReadOnlyList<EpochRecord> Epochs => epochs;
    public IReadOnlyList<ScheduleRecord> Batches => batches;

    /// <summary>history.csv's columns; lr and beta1 columns follow the group names.</summary>
    public IReadOnlyList<string> CsvColumns =>
        ["phase", "epoch", "train_loss", "valid_loss", "error_rate", "seconds",
            .. GroupNames.SelectMany(name => new[] { $"lr_{name}", $"beta1_{name}" })];

    public void Add(EpochRecord record) => epochs.Add(record);

    public void Add(ScheduleRecord record) => batches.Add(record);

    internal void ReplaceWith(IEnumerable<EpochRecord> savedEpochs, IEnumerable<ScheduleRecord> savedBatches)
    {
        epochs.Clear();
        epochs.AddRange(savedEpochs);
        batches.Clear();
        batches.AddRange(savedBatches);
    }

    /// <summary>
    /// Writes history.csv: invariant culture, round-trip numbers, phases as "frozen" / "unfrozen". No field can
    /// hold a comma or quote (group names are checked), so no quoting is needed.
    /// </summary>
    public void WriteCsv(string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        using var writer = new StreamWriter(path);
        writer.WriteLine(string.Join(",", CsvColumns));
        foreach (var record in epochs)
        {
            IEnumerable<string> fields =
            [
                PhaseName(record.Phase),
                record.Epoch.ToString(CultureInfo.InvariantCulture),
                .. new[] { record.TrainLoss, record.ValidLoss, record.ErrorRate, record.Seconds }.Select(Number),
                .. GroupNames.SelectMany((_, g) => new[] { Number(record.LearningRates[g]), Number(record.Beta1s[g]) }),
            ];
            writer.WriteLine(string.Join(",", fields));
        }
    }

    /// <summary>schedule.csv: the lr and beta1 of each group at every training batch, as the schedule actually ran.</summary>
    public void WriteScheduleCsv(string path)
    {
        using var writer = new StreamWriter(path);
        writer.WriteLine(string.Join(",", new[] { "phase", "epoch", "iteration" }.Concat(GroupNames.SelectMany(name => new[] { $"lr_{name}", $"beta1_{name}" }))));
        foreach (var record in batches)
        {
            IEnumerable<string> fields =
            [
                PhaseName(record.Phase),
                record.Epoch.ToString(CultureInfo.InvariantCulture),
                record.Iteration.ToString(CultureInfo.InvariantCulture),
                .. GroupNames.SelectMany((_, g) => new[] { Number(record.LearningRates[g]), Number(record.Beta1s[g]) }),
            ];
            writer.WriteLine(string.Join(",", fields));
        }
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string PhaseName(TrainingPhase phase) => phase.ToString().ToLowerInvariant();
}
