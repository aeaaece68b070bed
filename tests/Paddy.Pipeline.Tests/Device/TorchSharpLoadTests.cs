using System.Text;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Device;

/// <summary>TorchSharp 0.107 loads on Debian 12 only with the build's GLIBCXX fix (eng/TorchSharpGlibcxxFix.targets).</summary>
public sealed class TorchSharpLoadTests
{
    [Fact]
    public void Libtorch_loads_and_computes()
    {
        using var sum = ones(3, 4).sum();
        Assert.Equal(12f, sum.item<float>());
    }

    [Fact]
    public void The_output_copy_of_libLibTorchSharp_asks_for_GLIBCXX_3_4_32_only_weakly_where_the_system_lacks_it()
    {
        var library = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(library), $"{library} is missing");
        var systemHasIt = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6" }
            .Any(p => File.Exists(p) && Encoding.ASCII.GetString(File.ReadAllBytes(p)).Contains("GLIBCXX_3.4.32\0"));
        var flags = VersionNeedFlags(File.ReadAllBytes(library), "GLIBCXX_3.4.32");
        Assert.NotNull(flags);
        if (!systemHasIt) Assert.Equal(0x2, flags & 0x2);
    }

    /// <summary>An independent reading of the ELF verneed table: the vna_flags of the named version.</summary>
    private static int? VersionNeedFlags(byte[] elf, string version)
    {
        long sectionTable = BitConverter.ToInt64(elf, 0x28);
        int entrySize = BitConverter.ToUInt16(elf, 0x3A), count = BitConverter.ToUInt16(elf, 0x3C);
        for (int s = 0; s < count; s++)
        {
            int header = (int)(sectionTable + s * entrySize);
            if (BitConverter.ToUInt32(elf, header + 4) != 0x6ffffffe) continue;
            long offset = BitConverter.ToInt64(elf, header + 0x18);
            int linked = (int)BitConverter.ToUInt32(elf, header + 0x28);
            long strings = BitConverter.ToInt64(elf, (int)(sectionTable + linked * entrySize) + 0x18);
            long need = offset;
            for (int n = 0, needs = (int)BitConverter.ToUInt32(elf, header + 0x2C); n < needs; n++)
            {
                long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
                for (int a = 0, auxes = BitConverter.ToUInt16(elf, (int)need + 2); a < auxes; a++)
                {
                    int name = (int)(strings + BitConverter.ToUInt32(elf, (int)aux + 8));
                    if (Encoding.ASCII.GetString(elf, name, version.Length + 1) == version + "\0")
                        return BitConverter.ToUInt16(elf, (int)aux + 4);
                    aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                }
                need += BitConverter.ToUInt32(elf, (int)need + 12);
            }
        }
        return null;
    }
}
