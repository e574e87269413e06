using System.Buffers.Binary;
using System.Text;

namespace EdgeAgent.Inference.Tokenizers;

/// <summary>
/// A minimal protobuf wire-format reader over a byte span (enough for sentencepiece's <c>ModelProto</c>). Input is
/// hostile: every varint is bounded to 10 bytes, every length is checked against what is left, and any violation is
/// a <see cref="TokenizerFormatException"/>.
/// </summary>
internal ref struct ProtobufReader(ReadOnlySpan<byte> data)
{
    public const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5;

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _data = data;
    private int _pos;

    public readonly bool End => _pos >= _data.Length;

    public (int Field, int WireType) ReadTag()
    {
        ulong tag = ReadVarint();
        int field = (int)(tag >> 3);
        if (field <= 0 || tag >> 3 > int.MaxValue)
        {
            throw Error($"invalid field number {tag >> 3}");
        }
        return (field, (int)(tag & 7));
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_pos >= _data.Length)
            {
                throw Error("truncated varint");
            }
            byte b = _data[_pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }
        throw Error("varint longer than 10 bytes");
    }

    /// <summary>An int32 field (negative values are sign-extended to 10-byte varints on the wire).</summary>
    public int ReadInt32() => unchecked((int)ReadVarint());

    public bool ReadBool() => ReadVarint() != 0;

    public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    public ReadOnlySpan<byte> ReadBytes()
    {
        ulong length = ReadVarint();
        if (length > (ulong)(_data.Length - _pos))
        {
            throw Error($"length {length} runs past the end of the data ({_data.Length - _pos} bytes left)");
        }
        return Take((int)length);
    }

    public string ReadString()
    {
        var bytes = ReadBytes();
        try
        {
            return s_strictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new TokenizerFormatException("protobuf string is not valid UTF-8", e);
        }
    }

    /// <summary>Skips a field of the given wire type (groups, long deprecated, are rejected).</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case Varint: ReadVarint(); break;
            case Fixed64: Take(8); break;
            case LengthDelimited: ReadBytes(); break;
            case Fixed32: Take(4); break;
            default: throw Error($"unsupported wire type {wireType}");
        }
    }

    /// <summary>Throws unless a field has the wire type its schema gives it.</summary>
    public void Expect(int wireType, int expected, int field)
    {
        if (wireType != expected)
        {
            throw Error($"field {field} has wire type {wireType}, expected {expected}");
        }
    }

    private ReadOnlySpan<byte> Take(int n)
    {
        if (n > _data.Length - _pos)
        {
            throw Error("truncated field");
        }
        var s = _data.Slice(_pos, n);
        _pos += n;
        return s;
    }

    private readonly TokenizerFormatException Error(string what) => new($"malformed protobuf at byte {_pos}: {what}");
}
