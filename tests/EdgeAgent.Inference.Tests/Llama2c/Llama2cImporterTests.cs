using System.Buffers.Binary;
using EdgeAgent.Inference.Gguf;
using EdgeAgent.Inference.Llama2c;

namespace EdgeAgent.Inference.Tests.Llama2c;

public class Llama2cImporterTests
{
    private static byte[] Stories() => File.ReadAllBytes(TestData.Path("models", "stories260K.bin"));

    [Fact]
    public void ImportedModelHasTheCheckpointsShapeAndAByteVocabulary()
    {
        using var f = GgufFile.FromBytes(Llama2cImporter.Import(Stories()).ToArray());
        Assert.Equal("llama", f.Metadata.GetString("general.architecture"));
        Assert.Equal(64, f.Metadata.GetInt32("llama.embedding_length", 0));
        Assert.Equal(4, f.Metadata.GetInt32("llama.attention.head_count_kv", 0));
        var tokens = f.Metadata.GetStringArray("tokenizer.ggml.tokens")!;
        Assert.Equal(512, tokens.Length);
        Assert.Equal("<0x41>", tokens[0x41 + 3]);
        Assert.Equal(new long[] { 64, 512 }, f.GetTensor("output.weight").Dimensions);
        Assert.Equal(new long[] { 64, 32 }, f.GetTensor("blk.0.attn_k.weight").Dimensions);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(27)]
    [InlineData(28)]
    [InlineData(1000)]
    [InlineData(-4)] // one float short
    public void TruncatedCheckpointsAreRejected(int keep)
    {
        var bytes = Stories();
        var cut = bytes.AsSpan(0, keep >= 0 ? keep : bytes.Length + keep).ToArray();
        var e = Assert.Throws<GgufFormatException>(() => Llama2cImporter.Import(cut));
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData(0, 0)]                 // dim 0
    [InlineData(0, -64)]               // negative dim
    [InlineData(3, 7)]                 // heads not dividing dim
    [InlineData(4, 3)]                 // kv heads not dividing heads
    [InlineData(5, int.MinValue)]      // vocab = int.MinValue
    [InlineData(2, 1 << 30)]           // absurd layer count
    public void ImplausibleHeadersAreRejectedWithoutAllocating(int field, int value)
    {
        var bytes = Stories();
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(field * 4), value);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<GgufFormatException>(() => Llama2cImporter.Import(bytes));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
    }

    [Fact]
    public void GgufFilesAreNotMistakenForCheckpoints()
    {
        string path = Path.Combine(Path.GetTempPath(), $"not-l2c-{Guid.NewGuid():N}.gguf");
        try
        {
            Llama2cImporter.Import(Stories()).Write(path);
            Assert.False(Llama2cImporter.LooksLikeCheckpoint(path));
            Assert.True(Llama2cImporter.LooksLikeCheckpoint(TestData.Path("models", "stories260K.bin")));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
