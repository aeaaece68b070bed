using Paddy.Pipeline.Config;
using System.Diagnostics;
using Paddy.Pipeline.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Benchmarks;

/// <summary>
/// Decode + item-transform speed per core, and training throughput of a small conv net fed by the real loader
/// versus fed pre-made item-transformed tensors, both with the same batch augmentation.
/// Options: --images N (256), --epochs E (4), --batch B (32), --threads T (all cores).
/// </summary>
public sealed class LoaderBenchmark : IBenchmark
{
    public string Name => "loader";
    public string Description => "loader throughput vs in-memory tensors (decode, item resize, batch augmentation)";

    private static readonly ItemResize ItemTransform = new(new ImageSize(256, 256), ResizeMethod.Squish);
    private static readonly ImageSize OutputSize = new(224, 224);

    public void Run(IReadOnlyList<string> arguments)
    {
        int Option(string name, int fallback)
        {
            var i = arguments.ToList().IndexOf("--" + name);
            return i >= 0 && i + 1 < arguments.Count ? int.Parse(arguments[i + 1]) : fallback;
        }
        var imageCount = Option("images", 256);
        var epochs = Option("epochs", 4);
        var batchSize = Option("batch", 32);
        var threads = Option("threads", Environment.ProcessorCount);
        torch.set_num_threads(threads);

        var folder = Path.Combine(Path.GetTempPath(), "paddy-loader-benchmark-" + Guid.NewGuid().ToString("N"));
        try
        {
            var items = WriteImages(folder, imageCount);
            Console.WriteLine($"{imageCount} JPEGs 480 wide x 640 high, quality 90, in {folder}; {threads} torch threads, {Environment.ProcessorCount} cores");
            MeasureDecoding(folder, items);
            MeasureTraining(folder, items, epochs, batchSize);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    internal static List<LabelledImage> WriteImages(string folder, int count)
    {
        Directory.CreateDirectory(folder);
        var names = new string[count];
        Parallel.For(0, count, i =>
        {
            using var image = LeafLikeImage(480, 640, new Random(i));
            names[i] = $"{i:D5}.jpg";
            image.SaveAsJpeg(Path.Combine(folder, names[i]), new JpegEncoder { Quality = 90 });
        });
        return names.Select((n, i) => new LabelledImage(n, i % 10)).ToList();
    }

    // Smooth background, a few filled ellipses and pixel noise: compresses like a photo, not like flat colour.
    private static Image<Rgb24> LeafLikeImage(int width, int height, Random random)
    {
        var shapes = Enumerable.Range(0, 6).Select(_ => (X: random.Next(width), Y: random.Next(height),
            Rx: 20 + random.Next(120), Ry: 20 + random.Next(200),
            Colour: new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)))).ToArray();
        var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < width; x++)
                {
                    var pixel = new Rgb24((byte)(40 + 80 * x / width), (byte)(90 + 100 * y / height), 60);
                    foreach (var s in shapes)
                    {
                        double dx = (x - s.X) / (double)s.Rx, dy = (y - s.Y) / (double)s.Ry;
                        if (dx * dx + dy * dy <= 1) pixel = s.Colour;
                    }
                    var noise = random.Next(-12, 13);
                    row[x] = new Rgb24(Clamp(pixel.R + noise), Clamp(pixel.G + noise), Clamp(pixel.B + noise));
                }
            }
        });
        return image;
    }

    private static byte Clamp(int v) => (byte)Math.Clamp(v, 0, 255);

    private static void MeasureDecoding(string folder, List<LabelledImage> items)
    {
        var decoder = new ImageDecoder();
        var sample = items.Take(Math.Min(100, items.Count)).ToList();
        foreach (var item in sample.Take(10)) decoder.DecodeRgb(Path.Combine(folder, item.RelativePath)).Dispose(); // JIT warm-up
        var transforms = new[]
        {
            ("decode only", (ItemResize?)null),
            ("decode + crop (640,480) (Paddy portrait: no resize)", new ItemResize(new ImageSize(640, 480), ResizeMethod.Crop)),
            ("decode + squish 256", ItemTransform),
            ("decode + crop 224 (random region)", new ItemResize(new ImageSize(224, 224), ResizeMethod.Crop)),
        };
        foreach (var (label, resize) in transforms)
        {
            var watch = Stopwatch.StartNew();
            foreach (var item in sample)
            {
                using var image = decoder.DecodeRgb(Path.Combine(folder, item.RelativePath));
                if (resize is not null) resize.Apply(image, 0.3, 0.7).Dispose();
            }
            Console.WriteLine($"{label,-55} {sample.Count / watch.Elapsed.TotalSeconds,7:F0} images/s on one core");
        }
    }

    private static void MeasureTraining(string folder, List<LabelledImage> items, int epochs, int batchSize)
    {
        var augmentation = new BatchAugmentation(OutputSize, Normalization.ImageNet);
        var settings = new LoaderSettings(ItemTransform, augmentation, batchSize, Seed: 1, CPU);

        var (model, optimizer) = SmallConvNet();
        var cache = new ItemCache();
        var loader = new ImageLoader(folder, items, LoaderKind.Train, settings, cache, new ImageDecoder());
        var loaderTimes = new List<double>();
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            var watch = Stopwatch.StartNew();
            foreach (var batch in loader.Epoch(epoch))
                using (batch) Step(model, optimizer, batch.Images, batch.Targets);
            loaderTimes.Add(watch.Elapsed.TotalSeconds);
        }

        var premade = PremadeItems(folder, items);
        (model, optimizer) = SmallConvNet();
        var premadeTimes = new List<double>();
        var batches = items.Count / batchSize;
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            var order = Enumerable.Range(0, items.Count).ToArray();
            new Random(epoch).Shuffle(order);
            var watch = Stopwatch.StartNew();
            for (var b = 0; b < batches; b++)
            {
                using var scope = NewDisposeScope();
                var members = order.Skip(b * batchSize).Take(batchSize).Select(i => (long)i).ToArray();
                var images = augmentation.Train(premade.index_select(0, tensor(members)).permute(0, 3, 1, 2), new Random(b));
                var targets = tensor(members.Select(i => (long)items[(int)i].Label).ToArray());
                Step(model, optimizer, images, targets);
            }
            premadeTimes.Add(watch.Elapsed.TotalSeconds);
        }

        var perEpoch = batches * batchSize;
        Console.WriteLine($"training, item squish 256 -> aug_transforms(224, min_scale=0.75), batch {batchSize}, {batches} batches/epoch:");
        Console.WriteLine($"  epoch seconds, real loader:    {string.Join("  ", loaderTimes.Select(t => t.ToString("F2")))}");
        Console.WriteLine($"  epoch seconds, premade tensors: {string.Join("  ", premadeTimes.Select(t => t.ToString("F2")))}");
        double Rate(IEnumerable<double> times) => perEpoch * times.Count() / times.Sum();
        var all = Rate(loaderTimes) / Rate(premadeTimes);
        Console.WriteLine($"  all epochs:        loader {Rate(loaderTimes):F1} img/s, premade {Rate(premadeTimes):F1} img/s, ratio {all:P1}");
        if (epochs > 1)
        {
            var warm = Rate(loaderTimes.Skip(1)) / Rate(premadeTimes.Skip(1));
            Console.WriteLine($"  epochs 2..{epochs} (cache warm): loader {Rate(loaderTimes.Skip(1)):F1} img/s, premade {Rate(premadeTimes.Skip(1)):F1} img/s, ratio {warm:P1}");
        }
        var perItem = (double)cache.Bytes / cache.Count;
        Console.WriteLine($"  item cache: {cache.Count} items, {cache.Bytes / 1e6:F1} MB ({perItem:N0} B each); " +
                          $"Paddy's 10,407 images at 480x640 would take {10_407 * 480.0 * 640 * 3 / 1e9:F2} GB");
        premade.Dispose();
    }

    private static Tensor PremadeItems(string folder, List<LabelledImage> items)
    {
        var decoder = new ImageDecoder();
        var size = ItemTransform.Size;
        var bytes = new byte[items.Count * size.Height * size.Width * 3];
        Parallel.For(0, items.Count, i =>
        {
            using var image = decoder.DecodeRgb(Path.Combine(folder, items[i].RelativePath));
            using var resized = ItemTransform.Apply(image, 0.5, 0.5);
            RgbPixels.From(resized).Bytes.CopyTo(bytes.AsSpan(i * size.Height * size.Width * 3));
        });
        // Kept height x width x channels, as the loader's batches arrive, so both arms compute on the same layout.
        return tensor(bytes, [items.Count, size.Height, size.Width, 3]);
    }

    internal static (nn.Module<Tensor, Tensor> Model, optim.Optimizer Optimizer) SmallConvNet()
    {
        torch.manual_seed(0);
        var model = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride: 2, padding: 1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride: 2, padding: 1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride: 2, padding: 1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10));
        return (model, optim.AdamW(model.parameters(), 1e-3));
    }

    internal static void Step(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, Tensor images, Tensor targets)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        var loss = nn.functional.cross_entropy(model.call(images), targets);
        loss.backward();
        optimizer.step();
    }
}
