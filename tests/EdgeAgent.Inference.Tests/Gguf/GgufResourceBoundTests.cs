using EdgeAgent.Inference.Gguf;
using EdgeAgent.Tensors.Quants;
using static EdgeAgent.Inference.Tests.Gguf.GgufAssert;

namespace EdgeAgent.Inference.Tests.Gguf;

/// <summary>
/// Files built to make the reader allocate or index more than they are worth: the cheapest encodings repeated,
/// and (as sparse files costing no disk) sizes past the 2 GiB and 64 GiB marks where int casts go wrong.
/// </summary>
public class GgufResourceBoundTests
{
    [Fact]
    public void NestedArraysUnderALongKeyAllocateInProportionToTheFile()
    {
        // 4096 empty inner arrays (12 bytes each) under a 16 KiB key: anything done per inner array that scales
        // with the key (such as formatting it into a label) turns linear input into quadratic allocation.
        var b = GgufBytes.Header(0, 1).Key(new string('k', 16 * 1024), GgufValueType.Array).ArrayHeader(GgufValueType.Array, 4096);
        for (int i = 0; i < 4096; i++)
        {
            b.ArrayHeader(GgufValueType.UInt8, 0);
        }
        AcceptedWithinTheBound(b.ToArray());
    }

    [Fact]
    public void ManyTensorsWithLongNamesAllocateInProportionToTheFile()
    {
        var b = GgufBytes.Header(256, 0);
        for (int i = 0; i < 256; i++)
        {
            b.Tensor($"{i:x4}" + new string('t', 4096), GgmlType.F32, 0, 0);
        }
        AcceptedWithinTheBound(b.PadTo(32).ToArray());
    }

    [Fact]
    public void ManySmallestEntriesAllocateInProportionToTheFile()
    {
        // The cheapest encoding of each thing the parser materialises: one-byte values, empty strings, empty
        // tensors. Per-item overhead (boxes, records, dictionary entries) must stay a small multiple of its bytes.
        const int values = 20_000, strings = 20_000, tensors = 5_000;
        var b = GgufBytes.Header(tensors, values + 1);
        for (int i = 0; i < values; i++)
        {
            b.Key($"{i:x}", GgufValueType.UInt8).U8(0);
        }
        b.Key("strings", GgufValueType.Array).ArrayHeader(GgufValueType.String, strings).Zeros(strings * 8L);
        for (int i = 0; i < tensors; i++)
        {
            b.Tensor($"{i:x}", GgmlType.F32, 0, 0);
        }
        AcceptedWithinTheBound(b.PadTo(32).ToArray());
    }

    [Fact]
    public void TensorCountAboveInt32MaxInAFileOver64GiBIsRejected()
    {
        // 2^31 tensor infos of at least 32 bytes fit the size of this file, so only their content can reject them.
        const ulong count = 1UL << 31;
        RejectsSparse(GgufBytes.Header(count, 0).ToArray(), 24 + (32L << 31), "'' has 0 dimensions");
    }

    [Fact]
    public void NumericArrayOfMoreThan2GiBIsRejected()
    {
        // 2^28 uint64 values are 2 GiB, one byte more than a span can address.
        var header = GgufBytes.Header(0, 1).Key("big", GgufValueType.Array).ArrayHeader(GgufValueType.UInt64, 1UL << 28).ToArray();
        RejectsSparse(header, header.Length + (8L << 28), "'big'");
    }

    [Fact]
    public void StringLongerThanTheLargestDotNetStringIsRejected()
    {
        // 2^30 bytes decode to more chars than a .NET string may hold (0x3FFFFFDF).
        var header = GgufBytes.Header(0, 1).Key("general.name", GgufValueType.String).U64(1UL << 30).ToArray();
        RejectsSparse(header, header.Length + (1L << 30), "'general.name'", "string length 1073741824");
    }

    private static void AcceptedWithinTheBound(byte[] bytes)
    {
        long allocated = AllocatedWhileParsing(bytes, out var error);
        Assert.Null(error);
        CheckAllocation(allocated, bytes.Length);
    }

    /// <summary>Asserts that a sparse file of <paramref name="length"/> bytes starting with <paramref name="header"/>
    /// (the rest zeros) is rejected when opened. Passes vacuously on Windows and where the file system cannot
    /// make one.</summary>
    private static void RejectsSparse(byte[] header, long length, params string[] mentions)
    {
        if (OperatingSystem.IsWindows())
        {
            return; // NTFS files are not sparse unless marked so: SetLength would claim the disk space
        }
        using var file = new TempFile();
        try
        {
            using var fs = new FileStream(file.Path, FileMode.CreateNew, FileAccess.Write);
            fs.Write(header);
            fs.SetLength(length);
        }
        catch (IOException)
        {
            return;
        }
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(file.Path).Dispose());
        CheckMessage(e.Message, mentions);
    }
}
