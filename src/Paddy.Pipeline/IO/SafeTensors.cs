using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Paddy.Pipeline.IO;

/// <summary>The contents of a .safetensors file: tensors by name, in file order, and the metadata strings.</summary>
public sealed class SafeTensorsFile : IDisposable
{
    public SafeTensorsFile(IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
    }

    public IReadOnlyList<KeyValuePair<string, Tensor>> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public Tensor this[string name] =>
        Tensors.FirstOrDefault(t => t.Key == name).Value
        ?? throw new KeyNotFoundException($"No tensor named '{name}'. Present: {string.Join(", ", Tensors.Select(t => t.Key))}");

    public void Dispose()
    {
        foreach (var tensor in Tensors) tensor.Value.Dispose();
    }
}

/// <summary>
/// Reads and writes the safetensors format (8-byte little-endian header length, JSON header, raw little-endian
/// data). Written files are byte-for-byte deterministic: tensors in the given order, header padded to 8 bytes.
/// </summary>
public static class SafeTensors
{
    private static readonly Dictionary<string, (ScalarType Type, int Size)> TypesByCode = new()
    {
        ["F64"] = (ScalarType.Float64, 8), ["F32"] = (ScalarType.Float32, 4), ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2), ["I64"] = (ScalarType.Int64, 8), ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2), ["I8"] = (ScalarType.Int8, 1), ["U8"] = (ScalarType.Byte, 1),
        ["BOOL"] = (ScalarType.Bool, 1),
    };

    private const long MaxHeaderBytes = 100L * 1024 * 1024;

    public static SafeTensorsFile Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads only the header: names, types and shapes, without loading any tensor data.</summary>
    public static IReadOnlyList<(string Name, string DType, long[] Shape)> ReadHeader(string path)
    {
        using var stream = File.OpenRead(path);
        var (entries, _, _) = ReadHeaderEntries(stream, path);
        return entries.Select(e => (e.Name, e.DType, e.Shape)).ToList();
    }

    public static SafeTensorsFile Read(Stream stream, string sourceName)
    {
        var (entries, metadata, dataStart) = ReadHeaderEntries(stream, sourceName);
        var tensors = new List<KeyValuePair<string, Tensor>>(entries.Count);
        try
        {
            foreach (var entry in entries.OrderBy(e => e.Begin))
            {
                var bytes = new byte[entry.End - entry.Begin];
                stream.Seek(dataStart + entry.Begin, SeekOrigin.Begin);
                stream.ReadExactly(bytes);
                var (type, _) = TypesByCode[entry.DType];
                var tensor = empty(entry.Shape, type);
                bytes.CopyTo(tensor.bytes);
                tensors.Add(new(entry.Name, tensor));
            }
        }
        catch
        {
            foreach (var t in tensors) t.Value.Dispose();
            throw;
        }
        var order = entries.Select((e, i) => (e.Name, i)).ToDictionary(x => x.Name, x => x.i);
        return new SafeTensorsFile(tensors.OrderBy(t => order[t.Key]).ToList(), metadata);
    }

    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var stream = File.Create(path);
        Write(stream, tensors, metadata);
    }

    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (key, value) in metadata.OrderBy(m => m.Key, StringComparer.Ordinal)) meta[key] = value;
            header["__metadata__"] = meta;
        }
        var contiguous = new List<Tensor>();
        long offset = 0;
        try
        {
            foreach (var (name, tensor) in tensors)
            {
                var code = TypesByCode.FirstOrDefault(t => t.Value.Type == tensor.dtype).Key
                    ?? throw new NotSupportedException($"Tensor '{name}' has type {tensor.dtype}, which safetensors cannot hold here.");
                var cpu = tensor.detach().cpu().contiguous();
                contiguous.Add(cpu);
                long size = cpu.NumberOfElements * cpu.ElementSize;
                header[name] = new JsonObject
                {
                    ["dtype"] = code,
                    ["shape"] = new JsonArray(cpu.shape.Select(d => (JsonNode)d).ToArray()),
                    ["data_offsets"] = new JsonArray(offset, offset + size),
                };
                offset += size;
            }
            var json = Encoding.UTF8.GetBytes(header.ToJsonString());
            int padded = (json.Length + 7) / 8 * 8;
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            stream.Write(length);
            stream.Write(json);
            for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var tensor in contiguous) stream.Write(tensor.bytes);
        }
        finally
        {
            foreach (var t in contiguous) t.Dispose();
        }
    }

    private sealed record Entry(string Name, string DType, long[] Shape, long Begin, long End);

    private static (List<Entry> Entries, Dictionary<string, string> Metadata, long DataStart) ReadHeaderEntries(
        Stream stream, string sourceName)
    {
        string Problem(string what) =>
            $"{sourceName} is not a valid safetensors file: {what}. Download it again or point the configuration at a complete file.";

        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.ReadAtLeast(lengthBytes, 8, throwOnEndOfStream: false) < 8)
            throw new InvalidDataException(Problem("it is shorter than the 8-byte header length"));
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength == 0 || headerLength > MaxHeaderBytes || (long)headerLength > stream.Length - 8)
            throw new InvalidDataException(Problem($"its header length {headerLength} does not fit the file of {stream.Length} bytes"));
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        JsonObject header;
        try
        {
            header = JsonNode.Parse(headerBytes)?.AsObject() ?? throw new InvalidDataException(Problem("its header is empty"));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException(Problem($"its header is not JSON ({e.Message})"));
        }
        long dataStart = 8 + (long)headerLength;
        long dataLength = stream.Length - dataStart;
        var metadata = new Dictionary<string, string>();
        var entries = new List<Entry>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                foreach (var (key, value) in node!.AsObject()) metadata[key] = value?.GetValue<string>() ?? "";
                continue;
            }
            var obj = node?.AsObject() ?? throw new InvalidDataException(Problem($"entry '{name}' is not an object"));
            var dtype = obj["dtype"]?.GetValue<string>() ?? throw new InvalidDataException(Problem($"entry '{name}' has no dtype"));
            if (!TypesByCode.TryGetValue(dtype, out var type))
                throw new InvalidDataException(Problem($"entry '{name}' has unsupported dtype {dtype}"));
            var shape = obj["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var offsets = obj["data_offsets"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            long expected = shape.Aggregate(1L, (a, b) => a * b) * type.Size;
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] - offsets[0] != expected)
                throw new InvalidDataException(Problem($"entry '{name}' ({dtype} [{string.Join(",", shape)}]) has data offsets [{string.Join(",", offsets)}] that do not hold {expected} bytes"));
            if (offsets[1] > dataLength)
                throw new InvalidDataException(Problem($"entry '{name}' ends at byte {offsets[1]} of the data but the file holds {dataLength} (truncated?)"));
            entries.Add(new Entry(name, dtype, shape, offsets[0], offsets[1]));
        }
        return (entries, metadata, dataStart);
    }
}
