using EdgeAgent.Inference.Gguf;
using EdgeAgent.Tensors.Quants;
using static EdgeAgent.Inference.Tests.Gguf.GgufAssert;

namespace EdgeAgent.Inference.Tests.Gguf;

/// <summary>
/// A valid file written by <see cref="GgufWriter"/>, truncated at every length and corrupted at random: the reader
/// must reject each truncation, and may only ever throw <see cref="GgufFormatException"/> on a corruption.
/// </summary>
public class GgufCorruptionTests
{
    /// <summary>Metadata of most value types (string arrays, a nested array), and tensors of F32, Q8_0 and Q4_K
    /// sizes. Tensor bytes are random: only the layout is parsed.</summary>
    internal static byte[] ValidFile(uint alignment)
    {
        var rng = new Random(42);
        byte[] RandomBytes(int n)
        {
            var b = new byte[n];
            rng.NextBytes(b);
            return b;
        }

        var w = new GgufWriter { Alignment = alignment };
        w.Set("general.architecture", "llama")
         .Set("general.name", "hostile βγ")
         .Set("llama.block_count", 1u)
         .Set("llama.rope.freq_base", 10000f)
         .Set("llama.attention.layer_norm_rms_epsilon", GgufValue.Of(1e-5))
         .Set("general.file_type", 7)
         .Set("general.size", GgufValue.Of(-5L))
         .Set("general.quantized_by", new GgufValue(GgufValueType.UInt8, (byte)9))
         .Set("tokenizer.ggml.add_bos_token", true)
         .Set("tokenizer.ggml.tokens", new[] { "<unk>", "<s>", "</s>", "βγ", "" })
         .Set("tokenizer.ggml.scores", new[] { 0f, -1f, -2f, -3.5f, -4f })
         .Set("tokenizer.ggml.token_type", new[] { 2, 3, 3, 1, 1 })
         .Set("flags", GgufValue.Of(new[] { true, false, true }))
         .Set("nested", new GgufValue(GgufValueType.Array,
             new[] { GgufValue.Of(new[] { 1, 2 }), GgufValue.Of(new[] { "a", "bc" }), GgufValue.Of(Array.Empty<byte>()) }, GgufValueType.Array));
        w.AddTensor("token_embd.weight", GgmlType.Q8_0, [64, 3], RandomBytes(3 * 2 * 34));
        w.AddTensor("blk.0.ffn_down.weight", GgmlType.Q4_K, [256, 2], RandomBytes(2 * 144));
        w.AddTensor("output_norm.weight", [32], Enumerable.Range(0, 32).Select(i => i * 0.5f).ToArray());
        w.AddTensor("blk.0.attn_q.weight", GgmlType.F32, [8, 4], RandomBytes(8 * 4 * 4));
        return w.ToArray();
    }

    [Theory]
    [InlineData(32u)]
    [InlineData(64u)]
    public void ValidFileIsAcceptedAndItsLastTensorEndsTheFile(uint alignment)
    {
        var bytes = ValidFile(alignment);
        using var f = GgufFile.FromBytes(bytes);
        Assert.Equal(14 + (alignment == 32 ? 0 : 1), f.Metadata.Count);
        Assert.Equal(alignment, f.Alignment);
        Assert.Equal(new[] { GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.F32, GgmlType.F32 }, f.Tensors.Select(t => t.Type));
        var last = f.Tensors[^1];
        Assert.Equal(bytes.Length, f.DataOffset + last.Offset + last.ByteSize);
    }

    [Theory]
    [InlineData(32u)]
    [InlineData(64u)]
    public void EveryTruncationIsRejected(uint alignment)
    {
        var bytes = ValidFile(alignment);
        for (int length = 0; length < bytes.Length; length++)
        {
            Rejects(bytes[..length]);
        }
    }

    [Fact]
    public void RandomCorruptionOnlyEverThrowsGgufFormatException()
    {
        const int seed = 1234;
        const int iterations = 2000;
        var valid = ValidFile(64);
        int headerLength;
        using (var f = GgufFile.FromBytes(valid))
        {
            headerLength = (int)f.DataOffset;
        }
        var rng = new Random(seed);
        int rejected = 0;
        for (int i = 0; i < iterations; i++)
        {
            var bytes = Corrupt(valid, headerLength, rng);
            try
            {
                long allocated = AllocatedWhileParsing(bytes, out var error);
                CheckAllocation(allocated, bytes.Length);
                if (error is not null)
                {
                    CheckMessage(error.Message);
                    rejected++;
                }
                else
                {
                    CheckLayout(bytes);
                }
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"seed {seed}, iteration {i}: {e}");
            }
        }
        // Most corruptions land in the header; if few were rejected, the mutations are not reaching the parser.
        Assert.InRange(rejected, iterations / 2, iterations);
    }

    /// <summary>An accepted file's tensors lie inside it, aligned.</summary>
    private static void CheckLayout(byte[] bytes)
    {
        using var f = GgufFile.FromBytes(bytes);
        foreach (var t in f.Tensors)
        {
            Assert.InRange(f.DataOffset, 0, f.FileSize);
            Assert.Equal(0, t.Offset % f.Alignment);
            Assert.InRange(t.ByteSize, 0, f.FileSize - f.DataOffset - t.Offset);
        }
    }

    private static readonly ulong[] InterestingValues =
        [0, 1, 2, 3, 7, 8, 9, 12, 13, 0x7F, 0xFF, 0xFFFF, 1UL << 31, uint.MaxValue, 1UL << 32, 1UL << 62, 1UL << 63, long.MaxValue, ulong.MaxValue];

    /// <summary>One to four mutations, mostly inside the header: bit flips, interesting bytes, interesting 32- and
    /// 64-bit values (counts, lengths, type ids), and now and then a truncation.</summary>
    private static byte[] Corrupt(byte[] valid, int headerLength, Random rng)
    {
        var bytes = (byte[])valid.Clone();
        int mutations = rng.Next(1, 5);
        for (int m = 0; m < mutations; m++)
        {
            int at = rng.Next(10) < 9 ? rng.Next(Math.Min(headerLength, bytes.Length)) : rng.Next(bytes.Length);
            switch (rng.Next(10))
            {
                case < 4:
                    bytes[at] ^= (byte)(1 << rng.Next(8));
                    break;
                case < 6:
                    bytes[at] = (byte)InterestingValues[rng.Next(InterestingValues.Length)];
                    break;
                case < 9:
                    var value = InterestingValues[rng.Next(InterestingValues.Length)];
                    int width = rng.Next(2) == 0 ? 4 : 8;
                    for (int k = 0; k < width && at + k < bytes.Length; k++)
                    {
                        bytes[at + k] = (byte)(value >> (8 * k));
                    }
                    break;
                default:
                    bytes = bytes[..rng.Next(bytes.Length)];
                    break;
            }
            if (bytes.Length == 0)
            {
                break;
            }
        }
        return bytes;
    }
}
