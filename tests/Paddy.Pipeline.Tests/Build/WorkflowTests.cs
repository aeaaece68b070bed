using YamlDotNet.RepresentationModel;

namespace Paddy.Pipeline.Tests.Build;

/// <summary>The GitHub workflows cannot run here, so their structure is checked by reading them.</summary>
public sealed class WorkflowTests
{
    private static YamlMappingNode Load(string name)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(RepositoryRoot.Path, ".github", "workflows", name))));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static YamlMappingNode Map(YamlNode node, string key) => (YamlMappingNode)((YamlMappingNode)node)[key];

    private static string Text(YamlNode node, string key) => ((YamlScalarNode)((YamlMappingNode)node)[key]).Value!;

    private static IEnumerable<YamlMappingNode> Steps(YamlNode job) =>
        ((YamlSequenceNode)((YamlMappingNode)job)["steps"]).Children.Cast<YamlMappingNode>();

    private static string Runs(YamlNode job) =>
        string.Join("\n", Steps(job).Where(s => s.Children.ContainsKey("run")).Select(s => Text(s, "run")));

    [Fact]
    public void Train_workflow_plans_then_trains_a_matrix_leg_per_task_then_ensembles_without_training()
    {
        var jobs = Map(Load("train.yml"), "jobs");
        Assert.Equal(["plan", "train", "ensemble"], jobs.Children.Keys.Select(k => ((YamlScalarNode)k).Value));

        var plan = jobs["plan"];
        Assert.Contains("--target=Plan", Runs(plan));
        Assert.Equal("${{ steps.plan.outputs.matrix }}", Text(Map(plan, "outputs"), "matrix"));

        var train = jobs["train"];
        Assert.Equal("plan", Text(train, "needs"));
        Assert.Contains("self-hosted", Text(train, "runs-on"));
        Assert.Contains("gpu", Text(train, "runs-on"));
        var strategy = Map(train, "strategy");
        Assert.Equal("false", Text(strategy, "fail-fast"));
        Assert.Equal("${{ fromJSON(needs.plan.outputs.matrix) }}", Text(strategy, "matrix"));
        Assert.Contains("--target=\"${{ matrix.task }}\" --exclusive", Runs(train));
        Assert.Contains("--cache=.artifact-cache", Runs(train));
        var cache = Steps(train).Single(s => s.Children.ContainsKey("uses") && Text(s, "uses").StartsWith("actions/cache@"));
        Assert.Contains("${{ matrix.fingerprint }}", Text(Map(cache, "with"), "key"));
        var upload = Steps(train).Single(s => s.Children.ContainsKey("uses") && Text(s, "uses").StartsWith("actions/upload-artifact@"));
        Assert.Contains("${{ matrix.slug }}", Text(Map(upload, "with"), "name"));

        var ensemble = jobs["ensemble"];
        Assert.Equal(["plan", "train"], ((YamlSequenceNode)((YamlMappingNode)ensemble)["needs"]).Children.Select(n => ((YamlScalarNode)n).Value));
        Assert.Contains("always()", Text(ensemble, "if"));
        var download = Steps(ensemble).Single(s => s.Children.ContainsKey("uses") && Text(s, "uses").StartsWith("actions/download-artifact@"));
        Assert.Equal("paddy-*", Text(Map(download, "with"), "pattern"));
        Assert.Equal("true", Text(Map(download, "with"), "merge-multiple"));
        Assert.Contains("--target=Submit", Runs(ensemble));
        Assert.Contains("--train=false", Runs(ensemble));
    }

    [Fact]
    public void Ci_workflow_builds_and_tests_on_the_cpu()
    {
        var job = Map(Load("ci.yml"), "jobs")["build-and-test"];
        Assert.Equal("ubuntu-latest", Text(job, "runs-on"));
        Assert.Contains("dotnet test Paddy.Pipeline.sln", Runs(job));
        Assert.DoesNotContain("TorchBackend=cuda", Runs(job));
    }
}
