using System.Globalization;
using Cake.Core.Diagnostics;
using Paddy.Build.Frosting;
using Paddy.Pipeline.Jobs;
using Spectre.Console;

namespace Paddy.Build.Tasks;

[TaskName("Ensemble")]
[TaskDescription("Combines the Train artifacts' TTA probabilities (weighted mean) into submission.csv.")]
[IsDependentOn(typeof(TrainAllTask))]
public sealed class EnsembleTask : FrostingTask<BuildContext>
{
    public override void Run(BuildContext context)
    {
        var members = context.Pipeline.Models.Select(m => (context.Planner.Plan(m), m.EnsembleWeight)).ToList();
        var result = EnsembleJob.Run(context.Store, members);
        context.Ensemble = result;
        if (context.Log.Verbosity < Verbosity.Normal) return;

        var table = new Table().Title("Validation error (each model on its own split; ensemble on the images all models held out)");
        table.AddColumns("model", "weight", "valid error", "valid images", $"on the {result.CommonValidCount} common");
        foreach (var m in result.Members)
            table.AddRow(Markup.Escape(m.Task), Number(m.Weight), Percent(m.ValidError), m.ValidCount.ToString(CultureInfo.InvariantCulture),
                m.ErrorOnCommonItems is { } e ? Percent(e) : "-");
        table.AddRow("[bold]ensemble[/]", "", "", "", result.EnsembleErrorOnCommonItems is { } ee ? $"[bold]{Percent(ee)}[/]" : "no common images");
        AnsiConsole.Write(table);
    }

    private static string Percent(double value) => value.ToString("P2", CultureInfo.InvariantCulture);

    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
