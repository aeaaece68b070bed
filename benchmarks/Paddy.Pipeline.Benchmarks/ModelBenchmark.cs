using Paddy.Pipeline.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Benchmarks;

/// <summary>Forward and training-step time of each ported family as a fastai classifier, on the CPU.</summary>
public sealed class ModelBenchmark : IBenchmark
{
    /// <summary>A small member of each family; the Swin families at the benchmark size with tiny's widths and window 4,
    /// since their zoo entries are fixed to 224/256.</summary>
    private static IEnumerable<(string Name, Func<int, TimmModel> Body)> Families() =>
    [
        ("convnext_atto", size => ModelCatalog.Resolve("convnext_atto").Create(new ModelOptions(0, size, size))),
        ("vit_tiny_patch16_224", size => ModelCatalog.Resolve("vit_tiny_patch16_224").Create(new ModelOptions(0, size, size))),
        ("swin_tiny (window 4)", size => new SwinTransformer(TinySwin(size), 0)),
        ("swinv2_tiny (window 4)", size => new SwinTransformerV2(TinySwin(size), 0)),
    ];

    internal static SwinArchitecture TinySwin(int size) =>
        new(size, size, PatchSize: 4, InChannels: 3, EmbedDim: 96, Depths: [2, 2, 6, 2], NumHeads: [3, 6, 12, 24], WindowHeight: 4, WindowWidth: 4);

    public string Name => "models";
    public string Description => "forward and train-step ms per family (options: --size 64 --batch 16 --steps 5 --threads N)";

    public void Run(IReadOnlyList<string> arguments)
    {
        int size = BenchmarkSupport.Option(arguments, "--size", 64), batch = BenchmarkSupport.Option(arguments, "--batch", 16), steps = BenchmarkSupport.Option(arguments, "--steps", 5);
        // On a shared machine, fewer threads than cores avoids OpenMP threads spinning against other processes.
        torch.set_num_threads(BenchmarkSupport.Option(arguments, "--threads", torch.get_num_threads()));
        Console.WriteLine($"CPU, {torch.get_num_threads()} threads, batch {batch} at {size}x{size}, median of {steps} after one warm-up");
        Console.WriteLine($"{"model",-24} {"params",10} {"forward ms",11} {"train step ms",14}");
        foreach (var (name, body) in Families())
        {
            torch.manual_seed(0);
            using var model = new FastaiClassifier(body(size), numClasses: 10);
            using var images = randn(batch, 3, size, size);
            using var targets = randint(10, [batch], ScalarType.Int64);
            var parameters = model.parameters().ToList();
            var forward = BenchmarkSupport.MedianMilliseconds(steps, () =>
            {
                model.eval();
                using var noGrad = no_grad();
                using var scope = NewDisposeScope();
                model.forward(images);
            });
            using var optimizer = optim.SGD(parameters, 0.01, momentum: 0.9);
            var trainStep = BenchmarkSupport.MedianMilliseconds(steps, () =>
            {
                model.train();
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                nn.functional.cross_entropy(model.forward(images), targets).backward();
                optimizer.step();
            });
            var count = parameters.Sum(p => p.numel());
            Console.WriteLine($"{name,-24} {count,10:N0} {forward,11:F1} {trainStep,14:F1}");
        }
    }
}
