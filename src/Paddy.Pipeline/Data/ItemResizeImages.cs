using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using Paddy.Pipeline.Config;

namespace Paddy.Pipeline.Data;

/// <summary>A rectangle of source pixels.</summary>
public readonly record struct PixelRegion(int Left, int Top, int Width, int Height);

/// <summary>fastai's item transform Resize(size, method) (<see cref="ItemResize"/>), applied to a decoded image.</summary>
public static class ItemResizeImages
{
    /// <summary>
    /// The source region fastai's Resize crops (vision/augment.py): scale m = the smaller of width/targetWidth and
    /// height/targetHeight; region = (int(m*targetWidth), int(m*targetHeight)); top-left = int(pct * slack) per axis.
    /// Train draws the two pcts uniformly in [0, 1); valid and test use 0.5.
    /// </summary>
    public static PixelRegion CropRegion(this ItemResize resize, int width, int height, double columnPct, double rowPct)
    {
        if (resize.Method == ResizeMethod.Squish) return new PixelRegion(0, 0, width, height);
        var m = (double)width / resize.Size.Width < (double)height / resize.Size.Height
            ? (double)width / resize.Size.Width
            : (double)height / resize.Size.Height;
        var cropWidth = (int)(m * resize.Size.Width);
        var cropHeight = (int)(m * resize.Size.Height);
        return new PixelRegion((int)(columnPct * (width - cropWidth)), (int)(rowPct * (height - cropHeight)), cropWidth, cropHeight);
    }

    /// <summary>Whether train-time randomness can change the result for an image of this size.</summary>
    public static bool IsRandomFor(this ItemResize resize, int width, int height)
    {
        var region = resize.CropRegion(width, height, 0, 0);
        return region.Width != width || region.Height != height;
    }

    /// <summary>
    /// Crops and resizes into a new image. PIL's BILINEAR resize is a triangle filter whose support widens when
    /// shrinking (antialiased); ImageSharp's Triangle resampler is the same filter.
    /// </summary>
    public static Image<Rgb24> Apply(this ItemResize resize, Image<Rgb24> image, double columnPct, double rowPct)
    {
        var region = resize.CropRegion(image.Width, image.Height, columnPct, rowPct);
        return image.Clone(c =>
        {
            if (region.Width != image.Width || region.Height != image.Height)
                c.Crop(new Rectangle(region.Left, region.Top, region.Width, region.Height));
            if (region.Width != resize.Size.Width || region.Height != resize.Size.Height)
                c.Resize(new ResizeOptions
                {
                    Size = new Size(resize.Size.Width, resize.Size.Height),
                    Mode = ResizeMode.Stretch,
                    Sampler = KnownResamplers.Triangle,
                });
        });
    }
}
