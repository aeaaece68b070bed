using System.Globalization;
using Cake.Core;
using Cake.Core.Diagnostics;
using Paddy.Build.Frosting;
using Paddy.Pipeline.Config;
using Paddy.Pipeline.Jobs;
using Spectre.Console;

namespace Paddy.Build.Tasks;

[TaskName("Ensemble")]
[TaskDescription("Combines the Train artifacts' TTA probabilities (weighted mean) into submission.csv.")]
[IsDependentOn(typeof(TrainAllTask))]
public sealed class EnsembleTask : FrostingTask<BuildContext>
{
    public override void Run(BuildContext context) => context.Ensemble = Ensemble(context);

    /// <summary>Ensembles the finished artifacts and prints the validation table (also for Submit run --exclusive).</summary>
    public static EnsembleResult Ensemble(BuildContext context)
    {
        if (context.FailedTasks.Count > 0)
            throw new CakeException($"{context.FailedTasks.Count} Train task(s) failed, so there is nothing complete to ensemble; finished models are kept:{Environment.NewLine}"
                + string.Join(Environment.NewLine, context.FailedTasks.Select(f => $"  {f.Key}: {f.Value}")));
        var members = context.Pipeline.Models.Select(m => (context.PlanOf(m), m.EnsembleWeight)).ToList();
        var result = EnsembleJob.Run(context.Store, members);
        if (context.Log.Verbosity < Verbosity.Normal) return result;

        var table = new Table().Title($"Validation error ({context.Pipeline.Data.Split.YamlName()} split; the ensemble on the images all models held out)");
        table.AddColumns("model", "weight", "valid error", "valid images", $"on the {result.CommonValidCount} common");
        foreach (var m in result.Members)
            table.AddRow(Markup.Escape(m.Task), Number(m.Weight), Percent(m.ValidError), m.ValidCount.ToString(CultureInfo.InvariantCulture),
                m.ErrorOnCommonItems is { } e ? Percent(e) : "-");
        table.AddRow("[bold]ensemble[/]", "", "", "", result.EnsembleErrorOnCommonItems is { } ee ? $"[bold]{Percent(ee)}[/]" : $"too few common images (under {EnsembleResult.MinimumCommonImages})");
        AnsiConsole.Write(table);
        return result;
    }

    private static string Percent(double value) => value.ToString("P2", CultureInfo.InvariantCulture);

    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
