using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Inference.Gguf;

/// <summary>
/// A GGUF (v2/v3) model file: metadata, tensor directory and zero-copy views of the tensor data, backed by a
/// read-only memory mapping (or an aligned native copy for in-memory files).
/// The file is treated as hostile: every count, length, dimension and offset is checked against the file size
/// before anything is allocated from it, and every failure is a <see cref="GgufFormatException"/> with a
/// one-line message.
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    /// <summary>"GGUF" read as a little-endian uint32.</summary>
    public const uint Magic = 0x46554747;
    public const uint DefaultAlignment = 32;
    internal const int MaxDimensions = 4;        // GGML_MAX_DIMS
    internal const int MaxArrayNesting = 8;

    private readonly MemoryMappedFile? _mmf;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _base;
    private readonly long _length;
    private readonly bool _ownsNative;
    private readonly Dictionary<string, GgufTensorInfo> _byName;

    public string? Path { get; }
    public uint Version { get; }
    public GgufMetadata Metadata { get; }
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }
    public uint Alignment { get; }

    /// <summary>Absolute file offset of the data section.</summary>
    public long DataOffset { get; }

    /// <summary>Size of the whole file in bytes.</summary>
    public long FileSize => _length;

    private GgufFile(string? path, MemoryMappedFile? mmf, MemoryMappedViewAccessor? view, byte* basePtr, long length, bool ownsNative)
    {
        Path = path;
        _mmf = mmf;
        _view = view;
        _base = basePtr;
        _length = length;
        _ownsNative = ownsNative;
        try
        {
            var parsed = GgufParser.Parse(basePtr, length);
            Version = parsed.Version;
            Metadata = parsed.Metadata;
            Tensors = parsed.Tensors;
            Alignment = parsed.Alignment;
            DataOffset = parsed.DataOffset;
            _byName = parsed.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Opens and validates a GGUF file, memory-mapping it read-only.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="GgufFormatException">The file is not a valid GGUF file.</exception>
    public static GgufFile Open(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"model file not found: {path}", path);
        }
        if (info.Length < 24)
        {
            throw new GgufFormatException($"{path}: not a GGUF file (only {info.Length} bytes)");
        }
        MemoryMappedFile? mmf = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            mmf = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            view = mmf.CreateViewAccessor(0, info.Length, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            p += view.PointerOffset;
            try
            {
                return new GgufFile(path, mmf, view, p, info.Length, ownsNative: false);
            }
            catch (GgufFormatException e)
            {
                throw new GgufFormatException($"{path}: {e.Message}", e);
            }
        }
        catch
        {
            view?.Dispose();
            mmf?.Dispose();
            throw;
        }
    }

    /// <summary>Parses a GGUF image held in memory (copied into 64-byte aligned native memory).</summary>
    public static GgufFile FromBytes(ReadOnlySpan<byte> bytes)
    {
        var p = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, bytes.Length), 64);
        bytes.CopyTo(new Span<byte>(p, bytes.Length));
        return new GgufFile(null, null, null, p, bytes.Length, ownsNative: true);
    }

    /// <summary>Looks a tensor up by name.</summary>
    public GgufTensorInfo? FindTensor(string name) => _byName.GetValueOrDefault(name);

    /// <summary>A tensor by name.</summary>
    /// <exception cref="GgufFormatException">No tensor of that name exists.</exception>
    public GgufTensorInfo GetTensor(string name) =>
        _byName.TryGetValue(name, out var t) ? t : throw new GgufFormatException($"missing tensor '{name}'");

    /// <summary>Pointer to the first byte of a tensor's data; valid until this file is disposed.</summary>
    public byte* GetTensorPointer(GgufTensorInfo tensor)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        return _base + DataOffset + tensor.Offset;
    }

    /// <summary>
    /// Copies <paramref name="destination"/>.Length bytes of a tensor's data, from <paramref name="offset"/> bytes into
    /// it. A file is read with positioned reads, not through the mapping, so the pages read do not stay resident in
    /// this process (used to repack weights without holding the file's bytes twice).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the tensor.</exception>
    /// <exception cref="IOException">The file could not be read in full.</exception>
    public void ReadTensorBytes(GgufTensorInfo tensor, long offset, Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        if (offset < 0 || offset + destination.Length > tensor.ByteSize)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"bytes [{offset}, {offset + destination.Length}) are outside tensor '{tensor.Name}' ({tensor.ByteSize} bytes)");
        }
        long position = DataOffset + tensor.Offset + offset;
        if (Path is null)
        {
            new ReadOnlySpan<byte>(_base + position, destination.Length).CopyTo(destination);
            return;
        }
        _handle ??= File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.Read);
        while (destination.Length > 0)
        {
            int n = RandomAccess.Read(_handle, destination, position);
            if (n <= 0)
            {
                throw new IOException($"{Path}: unexpected end of file reading tensor '{tensor.Name}'");
            }
            destination = destination[n..];
            position += n;
        }
    }

    private Microsoft.Win32.SafeHandles.SafeFileHandle? _handle;

    /// <summary>Zero-copy view of a tensor's bytes (tensors up to 2 GiB).</summary>
    public ReadOnlySpan<byte> GetTensorData(GgufTensorInfo tensor)
    {
        if (tensor.ByteSize > int.MaxValue)
        {
            throw new NotSupportedException($"tensor '{tensor.Name}' is larger than 2 GiB; use GetTensorPointer");
        }
        return new ReadOnlySpan<byte>(GetTensorPointer(tensor), (int)tensor.ByteSize);
    }

    /// <summary>
    /// A tensor's values converted to float32 (F32/F16/BF16/quantized), row by row. A file is read with positioned
    /// reads (<see cref="ReadTensorBytes"/>), not through the mapping: a small tensor between large ones (a norm
    /// vector) would otherwise keep the whole page-cache folio around it mapped, up to 2 MiB each where the kernel
    /// caches the file in large folios.
    /// </summary>
    public float[] ReadAsFloat32(GgufTensorInfo tensor)
    {
        var traits = QuantRegistry.Get(tensor.Type);
        long n = tensor.ElementCount;
        if (n > Array.MaxLength)
        {
            throw new NotSupportedException($"tensor '{tensor.Name}' has too many elements to convert in one array");
        }
        var result = new float[n];
        int rowLen = (int)tensor.RowLength;
        int rowBytes = (int)tensor.Type.RowBytes(rowLen);
        int rowsPerRead = Math.Max(1, (1 << 20) / Math.Max(1, rowBytes));
        var buffer = new byte[(long)Math.Min(rowsPerRead, tensor.RowCount) * rowBytes];
        for (long r0 = 0; r0 < tensor.RowCount; r0 += rowsPerRead)
        {
            int rows = (int)Math.Min(rowsPerRead, tensor.RowCount - r0);
            var src = buffer.AsSpan(0, rows * rowBytes);
            ReadTensorBytes(tensor, r0 * rowBytes, src);
            for (int r = 0; r < rows; r++)
            {
                traits.Dequantize(src.Slice(r * rowBytes, rowBytes), result.AsSpan((int)((r0 + r) * rowLen), rowLen));
            }
        }
        return result;
    }

    public void Dispose()
    {
        if (_base == null)
        {
            return;
        }
        if (_ownsNative)
        {
            NativeMemory.AlignedFree(_base);
        }
        else
        {
            _view?.SafeMemoryMappedViewHandle.ReleasePointer();
        }
        _base = null;
        _handle?.Dispose();
        _view?.Dispose();
        _mmf?.Dispose();
    }

    internal static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}

internal static class GgmlTypeExtensions
{
    /// <summary>Bytes of a row of <paramref name="elements"/> values of this type.</summary>
    public static long RowBytes(this GgmlType type, long elements) => GgmlTypes.Layout(type).RowBytes(elements);
}
