using ScottPlot;

namespace Paddy.Pipeline.Reporting;

/// <summary>The report's PNGs, drawn headless with ScottPlot (SkiaSharp's dependency-free Linux natives).</summary>
public static class Charts
{
    private const int Width = 720;
    private const int Height = 400;

    /// <summary>Training (smoothed) and validation loss per epoch, frozen and unfrozen phases in sequence.</summary>
    public static void Losses(TrainingCurves history, string path)
    {
        var plot = new Plot();
        var epochs = EpochAxis(history);
        plot.Add.ScatterLine(epochs, history.Numbers("train_loss")).LegendText = "train_loss (smoothed)";
        plot.Add.ScatterLine(epochs, history.Numbers("valid_loss")).LegendText = "valid_loss";
        Finish(plot, "Loss per epoch", "epoch (frozen first, then unfrozen)", "cross-entropy", path);
    }

    public static void ErrorRate(TrainingCurves history, string path)
    {
        var plot = new Plot();
        plot.Add.ScatterLine(EpochAxis(history), history.Numbers("error_rate").Select(e => 100 * e).ToArray()).LegendText = "error_rate";
        Finish(plot, "Validation error per epoch", "epoch (frozen first, then unfrozen)", "error %", path);
    }

    /// <summary>The learning rate (log10) and beta1 of each parameter group at every step (a training batch, or an epoch).</summary>
    public static void Schedule(TrainingCurves schedule, string step, string learningRatePath, string momentumPath)
    {
        var steps = Enumerable.Range(0, schedule.Rows.Count).Select(i => (double)i).ToArray();
        var lr = new Plot();
        var beta = new Plot();
        foreach (var group in schedule.Groups)
        {
            lr.Add.ScatterLine(steps, schedule.Numbers($"lr_{group}").Select(Math.Log10).ToArray()).LegendText = group;
            beta.Add.ScatterLine(steps, schedule.Numbers($"beta1_{group}")).LegendText = group;
        }
        Finish(lr, $"Learning rate per {step}, per parameter group", $"training {step}", "log10(lr)", learningRatePath);
        Finish(beta, $"Adam beta1 (momentum) per {step}", $"training {step}", "beta1", momentumPath);
    }

    public static void Confusion(ConfusionMatrix matrix, IReadOnlyList<string> vocab, string path)
    {
        var plot = new Plot();
        var classes = matrix.Classes;
        var values = new double[classes, classes];
        for (int row = 0; row < classes; row++)
            for (int column = 0; column < classes; column++)
                values[row, column] = matrix.Counts[row, column];
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(heatmap);
        var ticks = Enumerable.Range(0, classes).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.SetTicks(ticks, vocab.ToArray());
        plot.Axes.Left.SetTicks(ticks, vocab.Reverse().ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 110;
        plot.Title("Confusion matrix on the validation split");
        plot.XLabel("predicted");
        plot.YLabel("actual");
        plot.SavePng(path, 640, 640);
    }

    /// <summary>Each model's validation error next to the ensemble's, on the images every model held out.</summary>
    public static void EnsembleComparison(IReadOnlyList<(string Name, double Error)> bars, string path)
    {
        var plot = new Plot();
        var positions = Enumerable.Range(0, bars.Count).Select(i => (double)i).ToArray();
        plot.Add.Bars(positions, bars.Select(b => 100 * b.Error).ToArray());
        plot.Axes.Bottom.SetTicks(positions, bars.Select(b => b.Name).ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 30;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 190;
        plot.Axes.Right.MinimumSize = 120;
        plot.Axes.Margins(bottom: 0);
        Finish(plot, "Validation error on the images every model held out", "", "error %", path, legend: false, height: 600);
    }

    private static double[] EpochAxis(TrainingCurves history) =>
        Enumerable.Range(1, history.Rows.Count).Select(i => (double)i).ToArray();

    private static void Finish(Plot plot, string title, string xLabel, string yLabel, string path, bool legend = true, int height = Height)
    {
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        if (legend) plot.ShowLegend();
        plot.SavePng(path, Width, height);
    }
}
