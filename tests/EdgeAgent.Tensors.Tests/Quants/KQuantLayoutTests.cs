using EdgeAgent.Tensors.Quants;
using static EdgeAgent.Tensors.Tests.Quants.KQuantTestData;

namespace EdgeAgent.Tensors.Tests.Quants;

/// <summary>
/// Blocks packed by hand from the field layout of ggml-common.h (independently of the quantizers) must decode to
/// the values the format defines (exactly: every quantity here is a small dyadic number), and dot with a hand-built
/// Q8_K block to the double-precision sum of those values.
/// </summary>
public class KQuantLayoutTests
{
    private const ushort Half0_5 = 0x3800, Half0_25 = 0x3400, Half0_125 = 0x3000;

    [Fact]
    public void BlockSizesAndFieldOffsetsMatchGgml()
    {
        foreach (KFormat f in All)
        {
            Assert.Equal(GgmlTypes.Layout(f.Type).TypeSize, f.BlockBytes);
        }
        Assert.Equal(84, KQuantBlocks.Q2DMin + 2);
        Assert.Equal(110, KQuantBlocks.Q3D + 2);
        Assert.Equal(144, KQuantBlocks.Q4Qs + QK / 2);
        Assert.Equal(176, KQuantBlocks.Q5Qs + QK / 2);
        Assert.Equal(210, KQuantBlocks.Q6D + 2);
        Assert.Equal(292, KQuantBlocks.Q8BSums + 2 * QK / 16);
        Assert.Equal(KQuantBlocks.Q8Bytes, GgmlTypes.Layout(GgmlType.Q8_K).TypeSize);
    }

    [Fact]
    public unsafe void PairedHalfConversionEqualsTheScalarOneForEveryBitPatternInEitherLane()
    {
        var rng = new Random(5);
        byte* p = stackalloc byte[4];
        for (int h = 0; h < 65536; h++)
        {
            ushort other = (ushort)rng.Next(65536);
            foreach (var (first, second) in new[] { ((ushort)h, other), (other, (ushort)h) })
            {
                *(ushort*)p = first;
                *(ushort*)(p + 2) = second;
                (float a, float b) = KQuantBlocks.ReadHalves(p);
                Assert.Equal(BitConverter.SingleToInt32Bits(KQuantBlocks.HalfToSingle(first)), BitConverter.SingleToInt32Bits(a));
                Assert.Equal(BitConverter.SingleToInt32Bits(KQuantBlocks.HalfToSingle(second)), BitConverter.SingleToInt32Bits(b));
            }
        }
    }

    [Fact]
    public void HalfConversionIsExactForEveryBitPattern()
    {
        for (int h = 0; h < 65536; h++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf((ushort)h);
            float actual = KQuantBlocks.HalfToSingle((ushort)h);
            if (float.IsNaN(expected))
            {
                Assert.True(float.IsNaN(actual), $"0x{h:X4}");
            }
            else
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(actual));
            }
        }
    }

    [Fact]
    public void HandBuiltQ4KDecodes()
    {
        int[] sc = [1, 2, 3, 4, 17, 33, 50, 63];
        int[] mn = [0, 5, 10, 63, 16, 20, 31, 47];
        var block = new byte[144];
        Put(block, 0, Half0_5);
        Put(block, 2, Half0_25);
        PackScalesK4(block.AsSpan(4, 12), sc, mn);
        var expected = new float[QK];
        for (int e = 0; e < QK; e++)
        {
            int s = e / 32, l = e % 32, q = (e * 7 + 3) % 16;
            block[16 + 32 * (s / 2) + l] |= (byte)(q << (4 * (s % 2)));
            expected[e] = 0.5f * sc[s] * q - 0.25f * mn[s];
        }
        CheckBlock(Q4K, block, expected);
    }

    [Fact]
    public void HandBuiltQ5KDecodes()
    {
        int[] sc = [63, 1, 0, 9, 40, 16, 2, 31];
        int[] mn = [3, 0, 63, 7, 32, 48, 15, 1];
        var block = new byte[176];
        Put(block, 0, Half0_25);
        Put(block, 2, Half0_5);
        PackScalesK4(block.AsSpan(4, 12), sc, mn);
        var expected = new float[QK];
        for (int e = 0; e < QK; e++)
        {
            int s = e / 32, l = e % 32, q = (e * 11 + 5) % 32;
            block[48 + 32 * (s / 2) + l] |= (byte)((q & 15) << (4 * (s % 2)));
            block[16 + l] |= (byte)((q >> 4) << s);
            expected[e] = 0.25f * sc[s] * q - 0.5f * mn[s];
        }
        CheckBlock(Q5K, block, expected);
    }

    [Fact]
    public void HandBuiltQ6KDecodes()
    {
        int[] sc = [-128, -7, 0, 1, 5, 127, -1, 2, 3, -4, 8, -16, 31, -32, 64, 100];
        var block = new byte[210];
        for (int j = 0; j < 16; j++)
        {
            block[192 + j] = unchecked((byte)(sbyte)sc[j]);
        }
        Put(block, 208, Half0_125);
        var expected = new float[QK];
        for (int e = 0; e < QK; e++)
        {
            int h = e / 128, r = e % 128, m = r / 32, l = r % 32, q = (e * 13 + 1) % 64;
            block[64 * h + 32 * (m & 1) + l] |= (byte)((q & 15) << (4 * (m >> 1)));
            block[128 + 32 * h + l] |= (byte)((q >> 4) << (2 * m));
            expected[e] = 0.125f * sc[e / 16] * (q - 32);
        }
        CheckBlock(Q6K, block, expected);
    }

    [Fact]
    public void HandBuiltQ3KDecodes()
    {
        int[] sc = [-32, -1, 0, 1, 31, 7, -8, 15, -16, 3, 5, -5, 20, -20, 9, 2];
        var block = new byte[110];
        for (int j = 0; j < 16; j++)
        {
            int u = sc[j] + 32;
            block[96 + j % 8] |= (byte)((u & 15) << (j < 8 ? 0 : 4));
            block[96 + 8 + j % 4] |= (byte)((u >> 4) << (2 * (j / 4)));
        }
        Put(block, 108, Half0_25);
        var expected = new float[QK];
        for (int e = 0; e < QK; e++)
        {
            int s = e / 32, l = e % 32, v = (e * 5 + 2) % 8 - 4, u = v + 4;
            block[32 + 32 * (s / 4) + l] |= (byte)((u & 3) << (2 * (s % 4)));
            block[l] |= (byte)((u >> 2) << s);
            expected[e] = 0.25f * sc[e / 16] * v;
        }
        CheckBlock(Q3K, block, expected);
    }

    [Fact]
    public void HandBuiltQ2KDecodes()
    {
        var block = new byte[84];
        for (int j = 0; j < 16; j++)
        {
            block[j] = (byte)((j * 3 + 1) % 16 | ((j * 5 + 2) % 16) << 4);
        }
        Put(block, 80, Half0_5);
        Put(block, 82, Half0_125);
        var expected = new float[QK];
        for (int e = 0; e < QK; e++)
        {
            int s = e / 32, l = e % 32, g = e / 16, q = (e * 3 + 1) % 4;
            block[16 + 32 * (s / 4) + l] |= (byte)(q << (2 * (s % 4)));
            expected[e] = 0.5f * ((g * 3 + 1) % 16) * q - 0.125f * ((g * 5 + 2) % 16);
        }
        CheckBlock(Q2K, block, expected);
    }

    [Fact]
    public void HandBuiltQ8KDecodes()
    {
        byte[] q8 = HandBuiltQ8K(out float[] values);
        var y = new float[QK];
        Q8_KFormat.Dequantize(q8, y);
        Assert.Equal(values, y);
    }

    /// <summary>d = 1/4, levels spread over −127..127, bsums consistent.</summary>
    private static byte[] HandBuiltQ8K(out float[] values)
    {
        var q8 = new byte[292];
        BitConverter.TryWriteBytes(q8.AsSpan(0, 4), 0.25f);
        values = new float[QK];
        for (int e = 0; e < QK; e++)
        {
            int q = (e * 37) % 255 - 127;
            q8[4 + e] = unchecked((byte)(sbyte)q);
            values[e] = 0.25f * q;
            short bsum = BitConverter.ToInt16(q8, 260 + 2 * (e / 16));
            BitConverter.TryWriteBytes(q8.AsSpan(260 + 2 * (e / 16), 2), (short)(bsum + q));
        }
        return q8;
    }

    private static void CheckBlock(KFormat f, byte[] block, float[] expected)
    {
        var y = new float[QK];
        f.Dequantize(block, y);
        Assert.Equal(expected, y);
        f.DequantizeReference(block, y);
        Assert.Equal(expected, y);

        byte[] q8 = HandBuiltQ8K(out float[] a);
        double exact = 0, magnitude = 0;
        for (int e = 0; e < QK; e++)
        {
            exact += (double)expected[e] * a[e];
            magnitude += Math.Abs((double)expected[e] * a[e]);
        }
        // The integer sums are exact; only the final float scaling and lane sums can round.
        double tol = 1e-6 * magnitude;
        Assert.InRange(f.VecDotReference(block, q8, QK), exact - tol, exact + tol);
        foreach (KIsaArg isa in Enum.GetValues<KIsaArg>())
        {
            if (TierRuns(isa))
            {
                Assert.InRange(f.DotOn(isa)(block, q8, QK), exact - tol, exact + tol);
            }
        }
    }

    /// <summary>Eight 6-bit (scale, min) pairs in the 12-byte q4_K/q5_K layout (get_scale_min_k4's inverse).</summary>
    private static void PackScalesK4(Span<byte> b, int[] sc, int[] mn)
    {
        for (int j = 0; j < 4; j++)
        {
            b[j] = (byte)(sc[j] | ((sc[j + 4] >> 4) << 6));
            b[j + 4] = (byte)(mn[j] | ((mn[j + 4] >> 4) << 6));
            b[j + 8] = (byte)((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4));
        }
    }

    private static void Put(byte[] block, int offset, ushort half) => BitConverter.TryWriteBytes(block.AsSpan(offset, 2), half);
}
