using EdgeAgent.Inference.Gguf;
using EdgeAgent.Tensors.Quants;
using static EdgeAgent.Inference.Tests.Gguf.GgufAssert;

namespace EdgeAgent.Inference.Tests.Gguf;

/// <summary>
/// Forged GGUF files, one malformation each. Every one must be rejected with a one-line
/// <see cref="GgufFormatException"/> naming the key, tensor, value or offset at fault, both in memory and
/// memory-mapped, without allocating more than <see cref="GgufAssert.AllocationBound"/>.
/// </summary>
public class GgufHostileTests
{
    private const ulong Max = ulong.MaxValue;
    private const ulong TwoTo63 = 1UL << 63;
    private const ulong TwoTo62 = 1UL << 62;
    private const string Name = "blk.0.attn_q.weight";
    private const string QuotedName = "'blk.0.attn_q.weight'";
    private const uint F32 = (uint)GgmlType.F32;

    public static TheoryData<GgufValueType> AllValueTypes()
    {
        var data = new TheoryData<GgufValueType>();
        foreach (var t in Enum.GetValues<GgufValueType>())
        {
            data.Add(t);
        }
        return data;
    }

    // ---- file and fixed header

    [Fact]
    public void MissingFileIsFileNotFound()
    {
        var path = Path.Combine(Path.GetTempPath(), $"gguf-missing-{Guid.NewGuid():N}.gguf");
        var e = Assert.Throws<FileNotFoundException>(() => GgufFile.Open(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(23)]
    public void FileShorterThanTheFixedHeaderIsRejected(int length) =>
        Rejects(GgufBytes.Header(0, 0).ToArray()[..length], "bytes");

    [Theory]
    [InlineData(0x4C4D4747u)] // "GGML", the pre-GGUF format
    [InlineData(0x544A4747u)] // "GGJT"
    [InlineData(0x47475546u)] // "FUGG": the magic byte-swapped
    [InlineData(0u)]
    public void WrongMagicIsRejected(uint magic) =>
        Rejects(new GgufBytes().U32(magic).U32(3).U64(0).U64(0).ToArray(), "magic", $"0x{magic:X8}");

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData(4u)]
    [InlineData(0x03000000u)] // version 3 written big-endian
    [InlineData(uint.MaxValue)]
    public void UnsupportedVersionIsRejected(uint version) =>
        Rejects(GgufBytes.Header(0, 0, version).ToArray(), "version", version.ToString());

    [Theory]
    [InlineData(TwoTo63)]
    [InlineData(Max)]
    [InlineData(3UL)] // three tensor infos of at least 32 bytes cannot fit in the 64 bytes that follow
    public void TensorCountBeyondTheFileIsRejected(ulong count) =>
        Rejects(GgufBytes.Header(count, 0).Zeros(64).ToArray(), "tensor count", count.ToString());

    [Theory]
    [InlineData(TwoTo63)]
    [InlineData(Max)]
    [InlineData(5UL)] // five pairs of at least 13 bytes cannot fit in 64
    public void MetadataCountBeyondTheFileIsRejected(ulong count) =>
        Rejects(GgufBytes.Header(0, count).Zeros(64).ToArray(), "metadata count", count.ToString());

    // ---- strings

    [Theory]
    [InlineData(Max)]
    [InlineData(TwoTo63)]
    [InlineData(11UL)] // one more than the 10 bytes left
    public void KeyLengthBeyondTheFileIsRejected(ulong length) =>
        Rejects(GgufBytes.Header(0, 1).U64(length).Zeros(10).ToArray(), $"string length {length}", "offset 24");

    [Theory]
    [InlineData(Max)]
    [InlineData(11UL)]
    public void StringValueLengthBeyondTheFileIsRejected(ulong length) =>
        Rejects(GgufBytes.Header(0, 1).Key("general.name", GgufValueType.String).U64(length).Zeros(10).ToArray(),
            "'general.name'", $"string length {length}");

    [Theory]
    [InlineData(Max)]
    [InlineData(11UL)]
    public void StringArrayElementLengthBeyondTheFileIsRejected(ulong length) =>
        Rejects(GgufBytes.Header(0, 1).Key("tokenizer.ggml.tokens", GgufValueType.Array)
                .ArrayHeader(GgufValueType.String, 2).Str("<s>").U64(length).Zeros(10).ToArray(),
            "'tokenizer.ggml.tokens'", $"string length {length}");

    [Theory]
    [InlineData(Max)]
    [InlineData(41UL)]
    public void TensorNameLengthBeyondTheFileIsRejected(ulong length) =>
        Rejects(GgufBytes.Header(1, 0).U64(length).Zeros(40).ToArray(), $"string length {length}", "offset 24");

    // ---- metadata values and arrays

    [Theory]
    [InlineData(13u)]
    [InlineData(0x80000009u)]
    [InlineData(uint.MaxValue)]
    public void UnknownValueTypeIsRejected(uint type) =>
        Rejects(GgufBytes.Header(0, 1).Str("general.name").U32(type).Zeros(8).ToArray(), "'general.name'", $"type {type}");

    [Theory]
    [InlineData((byte)2)]
    [InlineData((byte)0xFF)]
    public void InvalidBoolIsRejected(byte value) =>
        Rejects(GgufBytes.Header(0, 1).Key("flag", GgufValueType.Bool).U8(value).ToArray(), "'flag'", $"bool value {value}");

    [Fact]
    public void InvalidBoolInAnArrayIsRejected() =>
        Rejects(GgufBytes.Header(0, 1).Key("flags", GgufValueType.Array).ArrayHeader(GgufValueType.Bool, 3)
            .U8(1).U8(0).U8(2).ToArray(), "'flags'", "bool value 2 at index 2");

    [Fact]
    public void DuplicateKeyIsRejected() =>
        Rejects(GgufBytes.Header(0, 2).KvU32("llama.block_count", 2).KvU32("llama.block_count", 3).ToArray(),
            "duplicate", "'llama.block_count'");

    [Theory]
    [MemberData(nameof(AllValueTypes))]
    public void ArrayCountOf2To62IsRejectedForEveryElementType(GgufValueType elem) =>
        Rejects(GgufBytes.Header(0, 1).Key("arr", GgufValueType.Array).ArrayHeader(elem, TwoTo62).Zeros(64).ToArray(),
            "'arr'", TwoTo62.ToString());

    [Theory]
    [MemberData(nameof(AllValueTypes))]
    public void ArrayCountOneBeyondTheFileIsRejectedAndAnExactFitAccepted(GgufValueType elem)
    {
        const int left = 96; // a multiple of every smallest element encoding: 1, 2, 4, 8 and 12 bytes
        long fits = left / MinEncodedSize(elem);
        Rejects(ArrayOfZeros(elem, (ulong)fits + 1, left), "'arr'", $"{fits + 1}");

        // Zero bytes decode to zeros, false, empty strings and empty uint8 arrays: a valid file.
        using var f = GgufFile.FromBytes(ArrayOfZeros(elem, (ulong)fits, left));
        Assert.Equal(fits, f.Metadata["arr"]!.Count);
    }

    [Theory]
    [InlineData(13u)]
    [InlineData(0x80000000u)]
    [InlineData(uint.MaxValue)]
    public void UnknownArrayElementTypeIsRejected(uint elem) =>
        Rejects(GgufBytes.Header(0, 1).Key("arr", GgufValueType.Array).U32(elem).U64(1).Zeros(8).ToArray(),
            "'arr'", $"element type {elem}");

    [Fact]
    public void ArraysNestedToTheLimitAreAccepted()
    {
        using var f = GgufFile.FromBytes(NestedArrays(GgufFile.MaxArrayNesting));
        Assert.True(f.Metadata.Contains("deep"));
    }

    [Theory]
    [InlineData(GgufFile.MaxArrayNesting + 1)]
    [InlineData(10_000)] // deep enough to overflow the stack if nesting were unbounded
    public void ArraysNestedBeyondTheLimitAreRejected(int levels) =>
        Rejects(NestedArrays(levels), "'deep'", "nested");

    // ---- tensor infos

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void DimensionCountOutsideOneToFourIsRejected(int nDims) =>
        Rejects(OneTensor(F32, 0, Enumerable.Repeat(1UL, nDims).ToArray()), QuotedName, $"{nDims} dimensions");

    [Fact]
    public void DimensionCountOfUInt32MaxIsRejected() =>
        Rejects(GgufBytes.Header(1, 0).Str(Name).U32(uint.MaxValue).Zeros(64).ToArray(), QuotedName, $"{uint.MaxValue} dimensions");

    [Theory]
    [InlineData(TwoTo63)]
    [InlineData(Max)]
    public void DimensionAboveInt64IsRejected(ulong ne1) =>
        Rejects(OneTensor(F32, 0, [32, ne1]), QuotedName, ne1.ToString());

    [Theory]
    [InlineData(1UL << 32, 1UL << 32, 1UL, 1UL)]
    [InlineData(1UL << 62, 4UL, 1UL, 1UL)]
    [InlineData(1UL << 21, 1UL << 21, 1UL << 21, 1UL << 21)]
    [InlineData(1UL << 62, 1UL, 1UL, 1UL)] // 2^62 elements fit in int64; their 2^64 bytes of F32 do not
    public void DimensionsWhoseSizeOverflowsInt64AreRejected(ulong ne0, ulong ne1, ulong ne2, ulong ne3) =>
        Rejects(OneTensor(F32, 0, [ne0, ne1, ne2, ne3]), QuotedName, "overflows");

    [Theory]
    [InlineData(GgmlType.Q8_0, 33UL)]
    [InlineData(GgmlType.Q4_0, 1UL)]
    [InlineData(GgmlType.Q4_K, 128UL)]
    [InlineData(GgmlType.Q4_K, 257UL)]
    public void RowLengthNotAWholeNumberOfBlocksIsRejected(GgmlType type, ulong ne0) =>
        Rejects(OneTensor((uint)type, 0, [ne0, 2]), QuotedName, $"row length {ne0}", "block size");

    [Theory]
    [InlineData(4u)] // Q4_2, removed from ggml
    [InlineData(5u)] // Q4_3, removed from ggml
    [InlineData(16u)] // IQ2_XXS, not supported
    [InlineData(99u)]
    [InlineData(uint.MaxValue)]
    public void UnknownTensorTypeIsRejected(uint typeId) =>
        Rejects(OneTensor(typeId, 0, [256]), QuotedName, $"type id {typeId}");

    [Theory]
    [InlineData(1UL)]
    [InlineData(16UL)]
    [InlineData(31UL)]
    public void UnalignedOffsetIsRejected(ulong offset) =>
        Rejects(OneTensor(F32, offset, [4]), QuotedName, $"offset {offset}", "aligned to 32");

    [Fact]
    public void OffsetAlignedOnlyToTheDefaultIsRejectedUnderALargerAlignment() =>
        Rejects(GgufBytes.Header(1, 1).KvU32("general.alignment", 64).Tensor("t", GgmlType.F32, 32, 8).PadTo(64).Zeros(128).ToArray(),
            "'t'", "offset 32", "aligned to 64");

    [Theory]
    [InlineData(96UL)]
    [InlineData(1UL << 40)]
    [InlineData(TwoTo63)]
    [InlineData(Max)]
    public void OffsetBeyondTheDataSectionIsRejected(ulong offset) =>
        Rejects(OneTensor(F32, offset, [8]), QuotedName, offset.ToString());

    [Theory]
    [InlineData((ulong)long.MaxValue & ~31UL, 8UL)]
    [InlineData(1UL << 62, 1UL << 60)] // 2^62 + 2^62 bytes
    public void OffsetPlusSizeOverflowingInt64IsRejected(ulong offset, ulong elements) =>
        Rejects(OneTensor(F32, offset, [elements]), QuotedName, offset.ToString());

    [Theory]
    [InlineData(17UL)] // 68 bytes in a 64-byte data section
    [InlineData(1024UL)]
    [InlineData(1UL << 60)]
    public void TensorEndingPastTheEndOfTheFileIsRejected(ulong elements) =>
        Rejects(OneTensor(F32, 0, [elements]), QuotedName, "outside the file");

    [Fact]
    public void DataSectionStartingPastTheEndOfTheFileIsRejected() =>
        // 57 bytes of header with no padding: the data section would start at 64.
        Rejects(GgufBytes.Header(1, 0).Tensor("t", GgmlType.F32, 0, 0).ToArray(), "data section", "64");

    [Fact]
    public void DuplicateTensorNameIsRejected() =>
        Rejects(GgufBytes.Header(2, 0).Tensor("output.weight", GgmlType.F32, 0, 8).Tensor("output.weight", GgmlType.F32, 32, 8)
            .PadTo(32).Zeros(64).ToArray(), "duplicate", "'output.weight'");

    // ---- general.alignment

    [Theory]
    [InlineData(0u)]
    [InlineData(3u)]
    [InlineData(48u)]
    [InlineData(1u << 21)]
    [InlineData(1u << 31)]
    [InlineData(uint.MaxValue)]
    public void AlignmentThatIsNotAPowerOfTwoUpTo1MiBIsRejected(uint alignment) =>
        Rejects(GgufBytes.Header(0, 1).KvU32("general.alignment", alignment).ToArray(), "general.alignment", alignment.ToString());

    [Fact]
    public void AlignmentOfAnotherTypeIsRejected()
    {
        GgufBytes Kv(GgufValueType type) => GgufBytes.Header(0, 1).Key("general.alignment", type);
        Rejects(Kv(GgufValueType.UInt64).U64(32).ToArray(), "general.alignment", "UInt64");
        Rejects(Kv(GgufValueType.Int32).U32(32).ToArray(), "general.alignment", "Int32");
        Rejects(Kv(GgufValueType.UInt16).U8(32).U8(0).ToArray(), "general.alignment", "UInt16");
        Rejects(Kv(GgufValueType.Float32).U32(BitConverter.SingleToUInt32Bits(32f)).ToArray(), "general.alignment", "Float32");
        Rejects(Kv(GgufValueType.String).Str("32").ToArray(), "general.alignment", "String");
        Rejects(Kv(GgufValueType.Array).ArrayHeader(GgufValueType.UInt32, 1).U32(32).ToArray(), "general.alignment", "Array");
    }

    // ---- messages

    [Fact]
    public void HostileNamesAreShownEscapedOnOneLine()
    {
        const string key = "evil\nkey\r\twith\u2028separators\u0085";
        Rejects(GgufBytes.Header(0, 2).KvU32(key, 1).KvU32(key, 2).ToArray(), "duplicate", "evil\\nkey");
        Rejects(OneTensor(99, 0, [32], name: "line1\nline2"), "line1\\nline2");
        Rejects(GgufBytes.Header(0, 1).KvStr("general.alignment", "32\n\n").ToArray(), "general.alignment", "32\\n");
    }

    [Fact]
    public void LongNamesAreShortenedInMessages()
    {
        var key = new string('k', 100_000);
        Rejects(GgufBytes.Header(0, 2).KvU32(key, 1).KvU32(key, 2).ToArray(), "duplicate", "'kkkkkkkk");
        Rejects(OneTensor(99, 0, [32], name: key), "'kkkkkkkk", "type id 99");
    }

    // ---- helpers

    private static long MinEncodedSize(GgufValueType elem) => elem switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.Array => 4 + 8, // element type and count of an empty array
        _ => 8, // 64-bit scalars, and the length of an empty string
    };

    private static byte[] ArrayOfZeros(GgufValueType elem, ulong count, int zeros) =>
        GgufBytes.Header(0, 1).Key("arr", GgufValueType.Array).ArrayHeader(elem, count).Zeros(zeros).ToArray();

    /// <summary>An array of one array of one array … of <paramref name="levels"/> levels, innermost empty.</summary>
    private static byte[] NestedArrays(int levels)
    {
        var b = GgufBytes.Header(0, 1).Key("deep", GgufValueType.Array);
        for (int i = 1; i < levels; i++)
        {
            b.ArrayHeader(GgufValueType.Array, 1);
        }
        return b.ArrayHeader(GgufValueType.UInt8, 0).ToArray();
    }

    /// <summary>A file of one tensor info, padding and a 64-byte data section.</summary>
    private static byte[] OneTensor(uint typeId, ulong offset, ulong[] dims, string name = Name) =>
        GgufBytes.Header(1, 0).Tensor(name, typeId, offset, dims).PadTo(32).Zeros(64).ToArray();
}
