using System.Globalization;
using System.Text.RegularExpressions;
using Paddy.Pipeline.Training;
using Paddy.Pipeline.Training.Callbacks;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed partial class HistoryAndTableTests
{
    private const string Header = "epoch     train_loss  valid_loss  error_rate  time    ";

    [Fact]
    public void Console_table_pads_like_fastprogress_and_formats_like_fastai()
    {
        Assert.Equal(Header, ConsoleTable.Header(ProgressPrinter.ColumnNames));
        Assert.Equal("0         0.123457    0.234568    0.100000    01:05     ",
            ConsoleTable.Row(ProgressPrinter.ColumnNames, ["0", ConsoleTable.FormatFloat(0.1234567), ConsoleTable.FormatFloat(0.2345678), ConsoleTable.FormatFloat(0.1), ConsoleTable.FormatTime(65.9)]));
        Assert.Equal("1:02:05", ConsoleTable.FormatTime(3725));
        Assert.Equal("nan", ConsoleTable.FormatFloat(double.NaN));
    }

    [Fact]
    public void Fine_tune_prints_a_table_per_phase_and_records_fastai_losses_error_rate_and_history_csv()
    {
        using var folder = new TempFolder();
        var (train, valid) = TinyData.Loaders(trainCount: 20, validCount: 10, batchSize: 4);
        var output = new StringWriter();
        var rawLosses = new List<(TrainingPhase Phase, int Epoch, float Loss)>();
        using var learner = LearnerFactory.Create(TinyClassifier.Create(9, batchNorm: true), train, valid, folder.Path, output: output);
        learner.Add(new ProbeCallback
        {
            OnAfterLoss = l => { if (l.Training) rawLosses.Add((l.Phase, l.Epoch, l.Loss!.item<float>())); },
        });

        learner.FineTune(2, 0.01);

        // train_loss: fastai's AvgSmoothLoss, an EMA with beta 0.98 debiased by 1 - 0.98^n, restarted at each fit.
        var history = learner.History.Epochs;
        Assert.Equal(3, history.Count);
        foreach (var record in history)
        {
            var losses = rawLosses.Where(r => r.Phase == record.Phase && r.Epoch <= record.Epoch).Select(r => (double)r.Loss).ToList();
            double average = 0;
            foreach (var loss in losses) average = 0.98 * average + 0.02 * loss;
            Assert.Equal(average / (1 - Math.Pow(0.98, losses.Count)), record.TrainLoss, 5);
        }

        // valid_loss and error_rate of the last epoch: the means over validation samples of the final model.
        var (probabilities, targets) = learner.GetPreds(valid);
        double expectedLoss = -probabilities.gather(1, targets.unsqueeze(1)).log().mean().item<float>();
        double expectedErrors = probabilities.argmax(1).ne(targets).to_type(ScalarType.Float64).mean().item<double>();
        Assert.Equal(expectedLoss, history[^1].ValidLoss, 5);
        Assert.Equal(expectedErrors, history[^1].ErrorRate, 12);

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.DoesNotContain('\r', output.ToString());
        Assert.Equal(5, lines.Length);
        Assert.Equal(Header, lines[0]);
        Assert.Equal(Header, lines[2]);
        foreach (var (line, record) in new[] { (lines[1], history[0]), (lines[3], history[1]), (lines[4], history[2]) })
        {
            var match = RowPattern().Match(line);
            Assert.True(match.Success, $"row '{line}' is not in fastai's format");
            Assert.Equal(record.Epoch.ToString(CultureInfo.InvariantCulture), match.Groups[1].Value);
            Assert.Equal(record.TrainLoss.ToString("F6", CultureInfo.InvariantCulture), match.Groups[2].Value);
            Assert.Equal(record.ValidLoss.ToString("F6", CultureInfo.InvariantCulture), match.Groups[3].Value);
            Assert.Equal(record.ErrorRate.ToString("F6", CultureInfo.InvariantCulture), match.Groups[4].Value);
        }

        var csvPath = Path.Combine(folder.Path, "history.csv");
        learner.History.WriteCsv(csvPath);
        var csv = File.ReadAllLines(csvPath);
        Assert.Equal("phase,epoch,train_loss,valid_loss,error_rate,seconds,lr_body,beta1_body,lr_head,beta1_head", csv[0]);
        Assert.Equal(4, csv.Length);
        var lastUnfrozen = csv[3].Split(',');
        Assert.Equal(["unfrozen", "1"], lastUnfrozen[..2]);
        Assert.Equal(history[2].TrainLoss, double.Parse(lastUnfrozen[2], CultureInfo.InvariantCulture));
        // The lr and beta1 columns are those of the epoch's last training batch.
        var lastBatch = learner.History.Batches[^1];
        Assert.Equal(lastBatch.LearningRates[1], double.Parse(lastUnfrozen[8], CultureInfo.InvariantCulture));
        Assert.Equal(lastBatch.Beta1s[0], double.Parse(lastUnfrozen[7], CultureInfo.InvariantCulture));
        Assert.Equal("frozen", csv[1].Split(',')[0]);
    }

    [Fact]
    public void Live_progress_redraws_one_line_per_batch_with_carriage_returns_and_clears_it()
    {
        using var folder = new TempFolder();
        var (train, valid) = TinyData.Loaders(trainCount: 12, validCount: 4, batchSize: 4);
        var output = new StringWriter();
        using var learner = new Learner(TinyClassifier.Create(10), train, valid, [new ProgressPrinter(output, live: true)]);

        learner.FitOneCycle(1, LrSlice.Upto(0.01));

        var text = output.ToString();
        Assert.Contains("\rEpoch 1/1 train 33.33% [1/3 ", text);
        Assert.Contains("\rEpoch 1/1 train 100.00% [3/3 ", text);
        Assert.Contains("\rEpoch 1/1 valid 100.00% [1/1 ", text);
        Assert.Contains(" it/s]", text);
        // The table row starts on a cleared line.
        Assert.Matches(@"\r +\r0 {9}\d\.\d{6}", text);
    }

    [GeneratedRegex(@"^(\d+) {9}(\d\.\d{6}) {4}(\d\.\d{6}) {4}(\d\.\d{6}) {4}\d\d:\d\d {5}$")]
    private static partial Regex RowPattern();
}
