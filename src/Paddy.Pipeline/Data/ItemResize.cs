using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Paddy.Pipeline.Data;

/// <summary>A size as (height, width), the order fastai's batch transforms and this project use everywhere.</summary>
public readonly record struct ImageSize(int Height, int Width)
{
    public override string ToString() => $"{Height}x{Width}";
}

public enum ResizeMethod
{
    /// <summary>The whole image resized to the target size, ignoring its aspect ratio.</summary>
    Squish,
    /// <summary>The largest region with the target's aspect ratio (random position on train, centred otherwise), resized.</summary>
    Crop,
}

/// <summary>A rectangle of source pixels.</summary>
public readonly record struct PixelRegion(int Left, int Top, int Width, int Height);

/// <summary>fastai's item transform Resize(size, method), applied to a decoded image.</summary>
public sealed record ItemResize(ImageSize Size, ResizeMethod Method)
{
    /// <summary>
    /// The source region fastai's Resize crops (vision/augment.py): scale m = the smaller of width/targetWidth and
    /// height/targetHeight; region = (int(m*targetWidth), int(m*targetHeight)); top-left = int(pct * slack) per axis.
    /// Train draws the two pcts uniformly in [0, 1); valid and test use 0.5.
    /// </summary>
    public PixelRegion CropRegion(int width, int height, double columnPct, double rowPct)
    {
        if (Method == ResizeMethod.Squish) return new PixelRegion(0, 0, width, height);
        var m = (double)width / Size.Width < (double)height / Size.Height
            ? (double)width / Size.Width
            : (double)height / Size.Height;
        var cropWidth = (int)(m * Size.Width);
        var cropHeight = (int)(m * Size.Height);
        return new PixelRegion((int)(columnPct * (width - cropWidth)), (int)(rowPct * (height - cropHeight)), cropWidth, cropHeight);
    }

    /// <summary>Whether train-time randomness can change the result for an image of this size.</summary>
    public bool IsRandomFor(int width, int height)
    {
        var region = CropRegion(width, height, 0, 0);
        return region.Width != width || region.Height != height;
    }

    /// <summary>
    /// Crops and resizes into a new image. PIL's BILINEAR resize is a triangle filter whose support widens when
    /// shrinking (antialiased); ImageSharp's Triangle resampler is the same filter.
    /// </summary>
    public Image<Rgb24> Apply(Image<Rgb24> image, double columnPct, double rowPct)
    {
        var region = CropRegion(image.Width, image.Height, columnPct, rowPct);
        return image.Clone(c =>
        {
            if (region.Width != image.Width || region.Height != image.Height)
                c.Crop(new Rectangle(region.Left, region.Top, region.Width, region.Height));
            if (region.Width != Size.Width || region.Height != Size.Height)
                c.Resize(new ResizeOptions
                {
                    Size = new Size(Size.Width, Size.Height),
                    Mode = ResizeMode.Stretch,
                    Sampler = KnownResamplers.Triangle,
                });
        });
    }
}
