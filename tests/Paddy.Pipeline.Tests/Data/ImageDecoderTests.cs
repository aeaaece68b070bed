using System.Buffers.Binary;
using Paddy.Pipeline.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace Paddy.Pipeline.Tests.Data;

public class ImageDecoderTests
{
    private readonly ImageDecoder decoder = new();

    private static string SavePng<TPixel>(TempFolder folder, string name, Image<TPixel> image, PngEncoder encoder)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        using var stream = new MemoryStream();
        image.Save(stream, encoder);
        return folder.WriteBytes(name, stream.ToArray());
    }

    private Rgb24 DecodeFirstPixel(string path)
    {
        using var image = decoder.DecodeRgb(path);
        return image[0, 0];
    }

    [Fact]
    public void Greyscale_expands_to_equal_channels()
    {
        using var folder = new TempFolder();
        using var grey = new Image<L8>(2, 2, new L8(77));
        var path = SavePng(folder, "grey.png", grey, new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit8 });
        Assert.Equal(new Rgb24(77, 77, 77), DecodeFirstPixel(path));
    }

    [Fact]
    public void Alpha_is_dropped_without_compositing_as_PIL_convert_does()
    {
        using var folder = new TempFolder();
        using var rgba = new Image<Rgba32>(2, 2, new Rgba32(10, 20, 30, 0));
        var path = SavePng(folder, "rgba.png", rgba, new PngEncoder { ColorType = PngColorType.RgbWithAlpha });
        // Composited on black would be (0,0,0), on white (255,255,255); PIL keeps the colour.
        Assert.Equal(new Rgb24(10, 20, 30), DecodeFirstPixel(path));
    }

    [Fact]
    public void Palette_image_decodes_to_its_palette_colours()
    {
        using var folder = new TempFolder();
        using var two = new Image<Rgb24>(2, 1);
        two[0, 0] = new Rgb24(200, 10, 40);
        two[1, 0] = new Rgb24(5, 90, 250);
        var path = SavePng(folder, "palette.png", two, new PngEncoder { ColorType = PngColorType.Palette });
        using var image = decoder.DecodeRgb(path);
        Assert.Equal(new Rgb24(200, 10, 40), image[0, 0]);
        Assert.Equal(new Rgb24(5, 90, 250), image[1, 0]);
    }

    [Fact]
    public void Sixteen_bit_colour_keeps_the_high_byte_as_PIL_does()
    {
        using var folder = new TempFolder();
        using var wide = new Image<Rgb48>(1, 1, new Rgb48(0x12FF, 0xAB80, 0x00FF));
        var path = SavePng(folder, "rgb16.png", wide, new PngEncoder { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit16 });
        // Rounding scale (v * 255 / 65535) would give 0x13 and 0xAC for the first two.
        Assert.Equal(new Rgb24(0x12, 0xAB, 0x00), DecodeFirstPixel(path));
    }

    [Fact]
    public void Sixteen_bit_greyscale_clips_at_255_as_PIL_I16_to_RGB_does()
    {
        using var folder = new TempFolder();
        using var grey = new Image<L16>(2, 1);
        grey[0, 0] = new L16(200);
        grey[1, 0] = new L16(1000);
        var path = SavePng(folder, "grey16.png", grey, new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit16 });
        using var image = decoder.DecodeRgb(path);
        Assert.Equal(new Rgb24(200, 200, 200), image[0, 0]);
        Assert.Equal(new Rgb24(255, 255, 255), image[1, 0]);
    }

    [Fact]
    public void Jpeg_decodes_to_its_size()
    {
        using var folder = new TempFolder();
        var path = folder.WriteJpeg("a.jpg", 48, 64);
        using var image = decoder.DecodeRgb(path);
        Assert.Equal((48, 64), (image.Width, image.Height));
    }

    [Fact]
    public void Exif_orientation_is_not_applied_as_fastai_load_image_does_not()
    {
        using var folder = new TempFolder();
        using var image = TempFolder.NoiseImage(30, 20, seed: 2);
        image.Metadata.ExifProfile = new SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifProfile();
        image.Metadata.ExifProfile.SetValue(SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifTag.Orientation, (ushort)6);
        var path = folder.PathOf("rotated.jpg");
        image.SaveAsJpeg(path);
        // Orientation 6 means "rotate 90 degrees to display"; applying it would make the image 20 wide x 30 high.
        using var decoded = decoder.DecodeRgb(path);
        Assert.Equal((30, 20), (decoded.Width, decoded.Height));
    }

    /// <summary>A PNG with only a header (IHDR) and an end chunk: enough to identify, nothing to decode.</summary>
    internal static byte[] PngHeaderOnly(int width, int height)
    {
        using var stream = new MemoryStream();
        stream.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        WriteChunk(stream, "IHDR", ihdr);
        WriteChunk(stream, "IEND", []);
        return stream.ToArray();
    }

    private static void WriteChunk(Stream stream, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        stream.Write(length);
        var typeAndData = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        stream.Write(typeAndData);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typeAndData));
        stream.Write(crc);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
