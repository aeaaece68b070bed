using System.Diagnostics;
using System.Globalization;
using Paddy.Pipeline.Training.History;

namespace Paddy.Pipeline.Training.Callbacks;

/// <summary>
/// fastai's ProgressCallback in a console: a table per fit (header, then one row per epoch) and, on an
/// interactive console only, a progress line per pass redrawn with \r after every batch.
/// </summary>
public sealed class ProgressPrinter(TextWriter writer, bool live) : Callback
{
    public static readonly IReadOnlyList<string> ColumnNames = ["epoch", "train_loss", "valid_loss", "error_rate", "time"];

    private readonly Stopwatch passClock = new();
    private int lineLength;

    public override int Order => 60;

    public override void BeforeFit()
    {
        writer.WriteLine(ConsoleTable.Header(ColumnNames));
        // A resumed fit shows the epochs it had already finished.
        foreach (var record in Learner.History.Epochs.Where(r => r.Phase == Learner.Phase)) WriteRow(record);
    }

    public override void BeforeTrain() => passClock.Restart();

    public override void BeforeValidate() => passClock.Restart();

    public override void AfterBatch()
    {
        if (!live) return;
        int done = Learner.Iteration + 1;
        int total = Learner.BatchesPerEpoch;
        double seconds = passClock.Elapsed.TotalSeconds;
        double rate = seconds > 0 ? done / seconds : 0;
        double remaining = rate > 0 ? (total - done) / rate : 0;
        var line = string.Create(CultureInfo.InvariantCulture,
            $"Epoch {Learner.Epoch + 1}/{Learner.EpochCount} {(Learner.Training ? "train" : "valid")} {100.0 * done / total:F2}% [{done}/{total} {ConsoleTable.FormatTime(seconds)}<{ConsoleTable.FormatTime(remaining)} {rate:F2} it/s]");
        lineLength = Math.Max(lineLength, line.Length);
        writer.Write('\r' + line.PadRight(lineLength));
        writer.Flush();
    }

    public override void AfterTrain() => ClearLine();

    public override void AfterValidate() => ClearLine();

    public override void AfterEpoch() => WriteRow(Learner.History.Epochs[^1]);

    private void WriteRow(EpochRecord record) =>
        writer.WriteLine(ConsoleTable.Row(ColumnNames,
        [
            record.Epoch.ToString(CultureInfo.InvariantCulture),
            ConsoleTable.FormatFloat(record.TrainLoss),
            ConsoleTable.FormatFloat(record.ValidLoss),
            ConsoleTable.FormatFloat(record.ErrorRate),
            ConsoleTable.FormatTime(record.Seconds),
        ]));

    private void ClearLine()
    {
        if (!live || lineLength == 0) return;
        writer.Write('\r' + new string(' ', lineLength) + '\r');
        writer.Flush();
        lineLength = 0;
    }
}
