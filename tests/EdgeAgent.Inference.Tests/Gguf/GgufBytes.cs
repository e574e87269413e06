using System.Buffers.Binary;
using System.Text;
using EdgeAgent.Inference.Gguf;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Inference.Tests.Gguf;

/// <summary>
/// Emits raw GGUF bytes field by field (little-endian, gguf.md layout), so a test can forge any header the
/// <see cref="GgufWriter"/> would refuse to produce: wrong counts, lengths, type ids, offsets.
/// </summary>
internal sealed class GgufBytes
{
    private readonly MemoryStream _s = new();

    public long Length => _s.Length;

    /// <summary>Magic, version, tensor count and metadata count.</summary>
    public static GgufBytes Header(ulong tensorCount, ulong kvCount, uint version = 3) =>
        new GgufBytes().U32(GgufFile.Magic).U32(version).U64(tensorCount).U64(kvCount);

    public GgufBytes U8(byte v)
    {
        _s.WriteByte(v);
        return this;
    }

    public GgufBytes U32(uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return Raw(b);
    }

    public GgufBytes U64(ulong v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        return Raw(b);
    }

    public GgufBytes Raw(ReadOnlySpan<byte> bytes)
    {
        _s.Write(bytes);
        return this;
    }

    public GgufBytes Zeros(long count)
    {
        for (long i = 0; i < count; i++)
        {
            _s.WriteByte(0);
        }
        return this;
    }

    /// <summary>A GGUF string: u64 byte length, then UTF-8 bytes.</summary>
    public GgufBytes Str(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        return U64((ulong)bytes.Length).Raw(bytes);
    }

    /// <summary>A metadata key and its value type; the value follows.</summary>
    public GgufBytes Key(string key, GgufValueType type) => Str(key).U32((uint)type);

    public GgufBytes KvU32(string key, uint v) => Key(key, GgufValueType.UInt32).U32(v);

    public GgufBytes KvStr(string key, string v) => Key(key, GgufValueType.String).Str(v);

    /// <summary>An array's element type and count; the elements follow.</summary>
    public GgufBytes ArrayHeader(GgufValueType elem, ulong count) => U32((uint)elem).U64(count);

    /// <summary>A tensor info: name, dimension count, dimensions (ne0 first), type id, data offset.</summary>
    public GgufBytes Tensor(string name, uint typeId, ulong offset, params ulong[] dims)
    {
        Str(name).U32((uint)dims.Length);
        foreach (var d in dims)
        {
            U64(d);
        }
        return U32(typeId).U64(offset);
    }

    public GgufBytes Tensor(string name, GgmlType type, ulong offset, params ulong[] dims) => Tensor(name, (uint)type, offset, dims);

    /// <summary>Zero padding up to the next multiple of <paramref name="alignment"/>.</summary>
    public GgufBytes PadTo(long alignment) => Zeros((alignment - Length % alignment) % alignment);

    public byte[] ToArray() => _s.ToArray();
}
