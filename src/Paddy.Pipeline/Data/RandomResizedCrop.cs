namespace Paddy.Pipeline.Data;

/// <summary>
/// fastai's RandomResizedCropGPU region (vision/augment.py), one region for the whole batch. Train: up to 10 draws
/// of an area fraction in [minScale, 1] and a log-uniform ratio; the first region that fits is placed at a random
/// position. Otherwise (and always on valid/test) the largest centred region whose width/height lies within the
/// ratio range. With ratio (1, 1) on a 480x640 portrait image only a scale of exactly 0.75 fits, so the centred
/// 480x480 square is what nearly every batch gets.
/// </summary>
public static class RandomResizedCrop
{
    public const int Attempts = 10;

    public static PixelRegion Train(int height, int width, double minScale, (double Min, double Max) ratio, Random random)
    {
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var area = Uniform(random, minScale, 1) * width * height;
            var aspect = Math.Exp(Uniform(random, Math.Log(ratio.Min), Math.Log(ratio.Max)));
            // Python's round() rounds halves to even, as Math.Round does by default.
            var cropWidth = (int)Math.Round(Math.Sqrt(area * aspect));
            var cropHeight = (int)Math.Round(Math.Sqrt(area / aspect));
            if (cropWidth <= width && cropHeight <= height)
            {
                var top = random.Next(0, height - cropHeight + 1);
                var left = random.Next(0, width - cropWidth + 1);
                return new PixelRegion(left, top, cropWidth, cropHeight);
            }
        }
        return Centre(height, width, ratio);
    }

    public static PixelRegion Centre(int height, int width, (double Min, double Max) ratio)
    {
        var (cropHeight, cropWidth) = (double)width / height < ratio.Min ? ((int)(width / ratio.Min), width)
            : (double)width / height > ratio.Max ? (height, (int)(height * ratio.Max))
            : (height, width);
        return new PixelRegion((width - cropWidth) / 2, (height - cropHeight) / 2, cropWidth, cropHeight);
    }

    private static double Uniform(Random random, double low, double high) => low + (high - low) * random.NextDouble();
}
