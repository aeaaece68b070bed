using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Paddy.Pipeline.Config;

/// <summary>
/// Reads pipeline.yaml strictly: every unknown key, wrong type, impossible value, unknown architecture and
/// missing data folder is a <see cref="ConfigException"/> naming the file, line and column and what to write.
/// Relative paths are taken from the pipeline file's folder.
/// </summary>
public static class PipelineLoader
{
    public const string WeightsNone = "none";

    private static readonly TrainingSettings Defaults = new(
        Epochs: 12, FreezeEpochs: 1, Lr: 0.01, BatchSize: 64, Accum: 1, Precision: Precision.Fp16,
        Tta: new TtaSettings(Passes: 4, Beta: 0.25));

    private static readonly string[] TrainingKeys = ["method", "epochs", "freeze_epochs", "lr", "batch_size", "accum", "precision", "tta"];

    /// <param name="requireData">False for commands that need no data (--tree, Describe, Clean): data.root may be absent.</param>
    public static PipelineConfig Load(string path, IArchitectureCatalog catalog, bool requireData = true)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
            throw new FileNotFoundException($"Pipeline file {fullPath} does not exist. Pass an existing file with --pipeline=<path>.", fullPath);
        return Parse(File.ReadAllText(fullPath), fullPath, catalog, requireData);
    }

    public static PipelineConfig Parse(string yaml, string fullPath, IArchitectureCatalog catalog, bool requireData = true)
    {
        var file = Path.GetFileName(fullPath);
        var baseDirectory = Path.GetDirectoryName(fullPath)!;
        var stream = new YamlStream();
        var parser = new Parser(new StringReader(yaml));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException e)
        {
            throw new ConfigException(file, e.Start.Line, e.Start.Column, $"this is not valid YAML: {e.Message}");
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet gives up on some malformed flow mappings without a YamlException; the last event it read
            // is where the YAML stopped making sense.
            var mark = parser.Current?.End ?? Mark.Empty;
            throw new ConfigException(file, mark.Line, mark.Column,
                "this is not valid YAML: a { ... } or [ ... ] is not closed, or a value is missing. Check the brackets near here.");
        }
        if (stream.Documents.Count != 1)
            throw new ConfigException(file, 1, 1, "the file must hold exactly one YAML document (a mapping with name, data and models).");

        var root = YamlFields.Of(file, stream.Documents[0].RootNode, "the pipeline", "name", "seed", "data", "training", "memory_budget_mib", "models");
        var nameNode = root.Required("name", "paddy");
        var name = root.String(nameNode, "name");
        if (name.IndexOfAny(['/', '\\', ':']) >= 0 || name is "." or "..")
            throw root.ErrorAt(nameNode, $"name '{name}' becomes the folder artifacts/{name}; use letters, digits, '-', '_' or '.', for example name: paddy");
        var seed = root.Optional("seed") is { } seedNode ? root.Int(seedNode, "seed", 0) : 42;
        var data = ReadData(file, root.Required("data", "{ root: ./input }"), baseDirectory, requireData);
        var training = root.Optional("training") is { } trainingNode
            ? ReadTraining(file, trainingNode, "training", Defaults)
            : Defaults;

        var modelsNode = root.Required("models", "[ { arch: convnext_atto, size: 64 } ]");
        if (modelsNode is not YamlSequenceNode { Children.Count: > 0 } models)
            throw root.ErrorAt(modelsNode, "models must be a non-empty list; each item names an arch, an item resize and a size.");
        var combinations = models.Children.Select((node, i) => ReadModel(file, node, $"models[{i}]", training, catalog)).ToList();
        var duplicate = combinations.Select((c, i) => (c, i)).GroupBy(x => x.c.Key).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            var second = duplicate.Skip(1).First().i;
            throw root.ErrorAt(models.Children[second],
                $"models[{second}] repeats the combination {duplicate.Key} of models[{duplicate.First().i}]; each (arch, resize, size) trains once. Change one, or raise ensemble_weight instead of repeating it.");
        }
        var budget = root.Optional("memory_budget_mib") is { } b ? root.Int(b, "memory_budget_mib", 1) : PipelineConfig.KaggleGpuMiB;
        return new PipelineConfig(name, fullPath, seed, data, combinations, budget);
    }

    private static DataSettings ReadData(string file, YamlNode node, string baseDirectory, bool requireData)
    {
        var fields = YamlFields.Of(file, node, "data", "root", "valid_pct", "skip_bad_images");
        var rootNode = fields.Required("root", "./input");
        var root = Path.GetFullPath(Path.Combine(baseDirectory, fields.String(rootNode, "root")));
        if (requireData && !Directory.Exists(root))
            throw fields.ErrorAt(rootNode,
                $"data.root {root} does not exist. Put the Kaggle data there (train_images/, test_images/, train.csv, sample_submission.csv) or set data.root to the folder that holds it.");
        var validPct = fields.Optional("valid_pct") is { } v ? fields.Double(v, "valid_pct", 0, 1, minExclusive: true) : 0.2;
        if (validPct >= 1)
            throw fields.ErrorAt(fields.Optional("valid_pct")!, "data.valid_pct must be below 1, or nothing is left to train on; fastai's default is 0.2.");
        var skipBad = fields.Optional("skip_bad_images") is { } s && fields.Bool(s, "skip_bad_images");
        return new DataSettings(root, validPct, skipBad);
    }

    private static TrainingSettings ReadTraining(string file, YamlNode node, string where, TrainingSettings inherited)
    {
        var fields = YamlFields.Of(file, node, where, TrainingKeys);
        var method = fields.Optional("method") is { } m ? fields.Enum<TrainingMethod>(m, "method") : inherited.Method;
        var epochs = fields.Optional("epochs") is { } e ? fields.Int(e, "epochs", 1) : inherited.Epochs;
        var freeze = fields.Optional("freeze_epochs") is { } f ? fields.Int(f, "freeze_epochs", 0) : inherited.FreezeEpochs;
        var lr = fields.Optional("lr") is { } l ? fields.Double(l, "lr", 0, 10, minExclusive: true) : inherited.Lr;
        var batchNode = fields.Optional("batch_size");
        var batch = batchNode is not null ? fields.Int(batchNode, "batch_size", 1) : inherited.BatchSize;
        var accumNode = fields.Optional("accum");
        var accum = accumNode switch
        {
            null => inherited.Accum,
            YamlScalarNode { Value: "auto" } => TrainingSettings.AutoAccum,
            _ => fields.Int(accumNode, "accum", 1),
        };
        if (accum != TrainingSettings.AutoAccum && batch % accum != 0)
            throw fields.ErrorAt(accumNode ?? batchNode ?? node,
                $"{where}: accum {accum} does not divide batch_size {batch}; each step takes batch_size samples in accum micro-batches of batch_size/accum. Use an accum such as {string.Join(", ", Divisors(batch))}, or auto.");
        var precision = fields.Optional("precision") is { } p ? fields.Enum<Precision>(p, "precision") : inherited.Precision;
        var tta = inherited.Tta;
        if (fields.Optional("tta") is { } ttaNode)
        {
            var ttaFields = YamlFields.Of(file, ttaNode, $"{where}.tta", "n", "beta");
            tta = new TtaSettings(
                ttaFields.Optional("n") is { } n ? ttaFields.Int(n, "n", 0) : tta.Passes,
                ttaFields.Optional("beta") is { } b ? ttaFields.Double(b, "beta", 0, 1, minExclusive: false) : tta.Beta);
        }
        return new TrainingSettings(epochs, freeze, lr, batch, accum, precision, tta) { Method = method };
    }

    private static CombinationConfig ReadModel(string file, YamlNode node, string where, TrainingSettings training,
        IArchitectureCatalog catalog)
    {
        var fields = YamlFields.Of(file, node, where, "arch", "weights", "resize", "size", "ensemble_weight", "training");
        var archNode = fields.Required("arch", "convnext_large_in22k");
        var arch = fields.String(archNode, "arch");
        if (!catalog.Names.Contains(arch))
            throw fields.ErrorAt(archNode,
                $"unknown architecture '{arch}' in {where}.arch. Known: {string.Join(", ", catalog.Names.Order(StringComparer.Ordinal))}.");
        var weights = fields.Optional("weights") is { } w ? fields.String(w, "weights") : catalog.DefaultWeights(arch);
        var size = fields.Size(fields.Required("size", "[320, 224]"), "size");
        var resize = new ItemResize(size, ResizeMethod.Crop);
        if (fields.Optional("resize") is { } resizeNode)
        {
            var resizeFields = YamlFields.Of(file, resizeNode, $"{where}.resize", "method", "size");
            resize = new ItemResize(
                resizeFields.Size(resizeFields.Required("size", "[640, 480]"), "size"),
                resizeFields.Optional("method") is { } m ? resizeFields.Enum<ResizeMethod>(m, "method") : ResizeMethod.Crop);
        }
        var weight = fields.Optional("ensemble_weight") is { } ew ? fields.Double(ew, "ensemble_weight", 0, 1000, minExclusive: true) : 1.0;
        var settings = fields.Optional("training") is { } t ? ReadTraining(file, t, $"{where}.training", training) : training;
        return new CombinationConfig(arch, weights, resize, size, weight, settings);
    }

    private static IEnumerable<int> Divisors(int n) => Enumerable.Range(1, n).Where(d => n % d == 0).Take(6);
}
