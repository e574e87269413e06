using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Inference.Gguf;

/// <summary>
/// Parses the GGUF header, metadata and tensor directory from raw bytes. Layout (gguf.md): magic, version,
/// tensor count (u64), metadata count (u64), key/value pairs, tensor infos, padding to the alignment, data.
/// Every read is bounds-checked; every count is checked against the bytes left before anything is allocated.
/// </summary>
internal static unsafe class GgufParser
{
    internal sealed record Result(uint Version, GgufMetadata Metadata, List<GgufTensorInfo> Tensors, uint Alignment, long DataOffset);

    // Smallest encodings, used to bound counts before allocating: a string is an 8-byte length plus bytes;
    // a key/value pair is a key, a 4-byte type and at least one byte; a tensor info is a name, n_dims,
    // one dimension, the type and the offset.
    private const long MinKvBytes = 8 + 4 + 1;
    private const long MinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;

    // The longest .NET string (string.MaxLength, internal to CoreLib). UTF-8 never decodes to more UTF-16 chars
    // than it has bytes, so a string of at most this many bytes always fits; a longer one would throw
    // OutOfMemoryException from the decoder.
    private const long MaxStringBytes = 0x3FFFFFDF;

    // Names from the file are shown in messages up to this many chars.
    private const int MaxShownChars = 64;

    public static Result Parse(byte* data, long length)
    {
        var c = new Cursor(data, length);
        uint magic = c.U32("magic");
        if (magic != GgufFile.Magic)
        {
            throw Fail($"not a GGUF file (magic 0x{magic:X8}, expected 0x{GgufFile.Magic:X8} \"GGUF\")");
        }
        uint version = c.U32("version");
        if (version is not (2 or 3))
        {
            throw Fail(version == 1
                ? "GGUF version 1 is not supported (re-convert the model with a current llama.cpp)"
                : $"unsupported GGUF version {version} (supported: 2, 3)");
        }
        ulong tensorCount = c.U64("tensor count");
        ulong kvCount = c.U64("metadata count");
        if (kvCount > (ulong)(c.Remaining / MinKvBytes))
        {
            throw Fail($"metadata count {kvCount} cannot fit in a file of {length} bytes");
        }
        if (tensorCount > (ulong)(c.Remaining / MinTensorInfoBytes))
        {
            throw Fail($"tensor count {tensorCount} cannot fit in a file of {length} bytes");
        }

        var metadata = new GgufMetadata();
        for (ulong i = 0; i < kvCount; i++)
        {
            string key = c.String("metadata key");
            if (metadata.Contains(key))
            {
                throw Fail($"duplicate metadata key {Quote(key)}");
            }
            var type = (GgufValueType)c.U32("type", key);
            metadata.Set(key, ReadValue(ref c, type, key, depth: 0));
        }

        uint alignment = GgufFile.DefaultAlignment;
        if (metadata.TryGet("general.alignment", out var alignValue))
        {
            if (alignValue.Value is not uint a || a == 0 || (a & (a - 1)) != 0 || a > 1 << 20)
            {
                throw Fail($"general.alignment must be a power-of-two uint32 up to 1 MiB, got {alignValue.Type} {Escape(alignValue.ToString())}");
            }
            alignment = a;
        }

        // The count is bounded by the file size, which may exceed int range: cap the up-front capacity.
        var tensors = new List<GgufTensorInfo>((int)Math.Min(tensorCount, 1024));
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < tensorCount; i++)
        {
            var t = ReadTensorInfo(ref c, i);
            if (!names.Add(t.Name))
            {
                throw Fail($"duplicate tensor name {Quote(t.Name)}");
            }
            tensors.Add(t);
        }

        long dataOffset = AlignUp(c.Position, alignment);
        long dataLength = length - dataOffset;
        if (tensorCount > 0 && dataLength < 0)
        {
            throw Fail($"file truncated: data section would start at {dataOffset} but the file has {length} bytes");
        }
        foreach (var t in tensors)
        {
            if (t.Offset % alignment != 0)
            {
                throw Fail($"tensor {Quote(t.Name)} offset {t.Offset} is not aligned to {alignment}");
            }
            if (t.Offset > dataLength || t.ByteSize > dataLength - t.Offset)
            {
                throw Fail($"tensor {Quote(t.Name)} ({t.ByteSize} bytes at data offset {t.Offset}) lies outside the file (data section is {Math.Max(0, dataLength)} bytes; truncated?)");
            }
        }
        return new Result(version, metadata, tensors, alignment, dataOffset);
    }

    private static GgufTensorInfo ReadTensorInfo(ref Cursor c, ulong index)
    {
        string name = c.String($"name of tensor #{index}");
        uint nDims = c.U32("dimension count", name);
        if (nDims is 0 or > GgufFile.MaxDimensions)
        {
            throw Fail($"tensor {Quote(name)} has {nDims} dimensions (1 to {GgufFile.MaxDimensions} allowed)");
        }
        var dims = new long[nDims];
        long elements = 1;
        for (int d = 0; d < nDims; d++)
        {
            ulong ne = c.U64("dimensions", name);
            if (ne > long.MaxValue)
            {
                throw Fail($"tensor {Quote(name)} dimension {d} is {ne}, too large");
            }
            dims[d] = (long)ne;
            try
            {
                elements = checked(elements * (long)ne);
            }
            catch (OverflowException)
            {
                throw Fail($"tensor {Quote(name)} element count overflows ({string.Join(" x ", dims.Take(d + 1))})");
            }
        }
        uint typeId = c.U32("type", name);
        var type = (GgmlType)typeId;
        if (!GgmlTypes.IsKnown(type))
        {
            throw Fail($"tensor {Quote(name)} has unknown or unsupported type id {typeId}");
        }
        ulong offset = c.U64("offset", name);
        if (offset > long.MaxValue)
        {
            throw Fail($"tensor {Quote(name)} offset {offset} is out of range");
        }
        var layout = GgmlTypes.Layout(type);
        if (dims[0] % layout.BlockSize != 0)
        {
            throw Fail($"tensor {Quote(name)} row length {dims[0]} is not a multiple of the {layout.Name} block size {layout.BlockSize}");
        }
        long byteSize;
        try
        {
            byteSize = checked(elements / layout.BlockSize * layout.TypeSize);
        }
        catch (OverflowException)
        {
            throw Fail($"tensor {Quote(name)} byte size overflows");
        }
        return new GgufTensorInfo(name, type, dims, (long)offset, byteSize);
    }

    private static GgufValue ReadValue(ref Cursor c, GgufValueType type, string key, int depth)
    {
        switch (type)
        {
            case GgufValueType.UInt8: return new(type, c.Bytes(1, "value", key)[0]);
            case GgufValueType.Int8: return new(type, (sbyte)c.Bytes(1, "value", key)[0]);
            case GgufValueType.UInt16: return new(type, BinaryPrimitives.ReadUInt16LittleEndian(c.Bytes(2, "value", key)));
            case GgufValueType.Int16: return new(type, BinaryPrimitives.ReadInt16LittleEndian(c.Bytes(2, "value", key)));
            case GgufValueType.UInt32: return new(type, c.U32("value", key));
            case GgufValueType.Int32: return new(type, (int)c.U32("value", key));
            case GgufValueType.UInt64: return new(type, c.U64("value", key));
            case GgufValueType.Int64: return new(type, (long)c.U64("value", key));
            case GgufValueType.Float32: return new(type, BitConverter.UInt32BitsToSingle(c.U32("value", key)));
            case GgufValueType.Float64: return new(type, BitConverter.UInt64BitsToDouble(c.U64("value", key)));
            case GgufValueType.Bool:
                byte b = c.Bytes(1, "value", key)[0];
                if (b > 1)
                {
                    throw Fail($"metadata {Quote(key)}: invalid bool value {b}");
                }
                return new(type, b == 1);
            case GgufValueType.String: return new(type, c.String("value", key));
            case GgufValueType.Array: return ReadArray(ref c, key, depth);
            default: throw Fail($"metadata {Quote(key)} has unknown value type {(uint)type}");
        }
    }

    private static GgufValue ReadArray(ref Cursor c, string key, int depth)
    {
        if (depth >= GgufFile.MaxArrayNesting)
        {
            throw Fail($"metadata {Quote(key)}: arrays nested deeper than {GgufFile.MaxArrayNesting}");
        }
        // Labels are passed as (what, key) and formatted only on failure: this runs once per nested array, and
        // formatting the key each time would allocate key length × array count.
        var elem = (GgufValueType)c.U32("array type", key);
        ulong count = c.U64("array length", key);
        long minSize = elem switch
        {
            GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
            GgufValueType.UInt16 or GgufValueType.Int16 => 2,
            GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
            GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
            GgufValueType.Array => 12,
            _ => throw Fail($"metadata {Quote(key)}: unknown array element type {(uint)elem}"),
        };
        if (count > (ulong)(c.Remaining / minSize) || count > (ulong)Array.MaxLength)
        {
            throw Fail($"metadata {Quote(key)}: array length {count} exceeds the {c.Remaining} bytes left in the file");
        }
        int n = (int)count;
        object value;
        switch (elem)
        {
            case GgufValueType.UInt8: value = c.Bytes(n, "array", key).ToArray(); break;
            case GgufValueType.Int8: value = Cast<sbyte>(c.Bytes(n, "array", key)); break;
            case GgufValueType.UInt16: value = Cast<ushort>(c.Bytes(n * 2L, "array", key)); break;
            case GgufValueType.Int16: value = Cast<short>(c.Bytes(n * 2L, "array", key)); break;
            case GgufValueType.UInt32: value = Cast<uint>(c.Bytes(n * 4L, "array", key)); break;
            case GgufValueType.Int32: value = Cast<int>(c.Bytes(n * 4L, "array", key)); break;
            case GgufValueType.Float32: value = Cast<float>(c.Bytes(n * 4L, "array", key)); break;
            case GgufValueType.UInt64: value = Cast<ulong>(c.Bytes(n * 8L, "array", key)); break;
            case GgufValueType.Int64: value = Cast<long>(c.Bytes(n * 8L, "array", key)); break;
            case GgufValueType.Float64: value = Cast<double>(c.Bytes(n * 8L, "array", key)); break;
            case GgufValueType.Bool:
                var raw = c.Bytes(n, "array", key);
                var bools = new bool[n];
                for (int i = 0; i < n; i++)
                {
                    if (raw[i] > 1)
                    {
                        throw Fail($"metadata {Quote(key)}: invalid bool value {raw[i]} at index {i}");
                    }
                    bools[i] = raw[i] == 1;
                }
                value = bools;
                break;
            case GgufValueType.String:
                var strings = new string[n];
                for (int i = 0; i < n; i++)
                {
                    strings[i] = c.String("array element", key);
                }
                value = strings;
                break;
            default:
                var nested = new GgufValue[n];
                for (int i = 0; i < n; i++)
                {
                    nested[i] = ReadArray(ref c, key, depth + 1);
                }
                value = nested;
                break;
        }
        return new GgufValue(GgufValueType.Array, value, elem);
    }

    private static T[] Cast<T>(ReadOnlySpan<byte> bytes) where T : unmanaged
    {
        // GGUF is little-endian; so are all platforms .NET runs this engine on (asserted at startup of the reader).
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes).ToArray();
    }

    internal static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;

    private static GgufFormatException Fail(string message) => new(message);

    /// <summary>A name from the file, quoted for a message (see <see cref="Escape"/>).</summary>
    internal static string Quote(string name) => $"'{Escape(name)}'";

    /// <summary>
    /// Text from the file made fit for a one-line message: control and line-separator characters escaped, and
    /// anything past <see cref="MaxShownChars"/> cut off with the full length noted, so that a hostile name can
    /// neither forge extra lines nor blow a message up to the size of the file.
    /// </summary>
    internal static string Escape(string text)
    {
        int shown = Math.Min(text.Length, MaxShownChars);
        if (shown < text.Length && char.IsHighSurrogate(text[shown - 1]))
        {
            shown--; // do not split a surrogate pair
        }
        var sb = new StringBuilder(shown + 16);
        foreach (char ch in text.AsSpan(0, shown))
        {
            switch (ch)
            {
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\u2028' or '\u2029': sb.Append($"\\u{(int)ch:X4}"); break;
                default:
                    if (char.IsControl(ch))
                    {
                        sb.Append($"\\u{(int)ch:X4}");
                    }
                    else
                    {
                        sb.Append(ch);
                    }
                    break;
            }
        }
        if (shown < text.Length)
        {
            sb.Append($"... ({text.Length} chars)");
        }
        return sb.ToString();
    }

    /// <summary>A bounds-checked forward reader over the raw file bytes. Each read names what it reads as
    /// <c>what</c> (and the key or tensor it belongs to as <c>owner</c>); the label is only formatted on failure.</summary>
    private ref struct Cursor
    {
        private readonly byte* _data;
        private readonly long _length;
        public long Position;

        public Cursor(byte* data, long length)
        {
            if (!BitConverter.IsLittleEndian)
            {
                throw new PlatformNotSupportedException("GGUF reading requires a little-endian machine");
            }
            _data = data;
            _length = length;
            Position = 0;
        }

        public readonly long Remaining => _length - Position;

        public ReadOnlySpan<byte> Bytes(long count, string what, string? owner = null)
        {
            if (count < 0 || count > Remaining)
            {
                Truncated(count, what, owner);
            }
            if (count > int.MaxValue)
            {
                throw Fail($"{Label(what, owner)} at offset {Position} is {count} bytes; values over 2 GiB are not supported");
            }
            var span = new ReadOnlySpan<byte>(_data + Position, (int)count);
            Position += count;
            return span;
        }

        public uint U32(string what, string? owner = null) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4, what, owner));

        public ulong U64(string what, string? owner = null) => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8, what, owner));

        public string String(string what, string? owner = null)
        {
            ulong len = U64(what, owner);
            if (len > (ulong)Remaining)
            {
                throw Fail($"{Label(what, owner)}: string length {len} at offset {Position - 8} exceeds the {Remaining} bytes left (truncated or corrupt)");
            }
            if (len > MaxStringBytes)
            {
                throw Fail($"{Label(what, owner)}: string length {len} at offset {Position - 8} is over the {MaxStringBytes} bytes a string may hold");
            }
            return Encoding.UTF8.GetString(Bytes((long)len, what, owner));
        }

        private static string Label(string what, string? owner) => owner is null ? what : $"{what} of {Quote(owner)}";

        [DoesNotReturn]
        private readonly void Truncated(long count, string what, string? owner) =>
            throw Fail($"file truncated at offset {Position} while reading {Label(what, owner)} ({count} bytes needed, {Remaining} left)");
    }
}
