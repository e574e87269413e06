using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Tensors.Tests.Quants;

/// <summary>
/// Reference quantizers and dequantizers of the 32-element formats: hand-computed blocks, round-trip error bounds,
/// SIMD tiers against scalar, and the argument checks.
/// </summary>
public class LegacyQuantizeTests
{
    private static float[] Ramp(Func<int, float> f) => Enumerable.Range(0, 32).Select(f).ToArray();

    [Fact]
    public void HandBuiltQ4_0BlockDecodes()
    {
        // d = 0.5 (fp16 0x3800). qs[j] = j (low nibble, element j) | (15 - j) << 4 (high nibble, element j + 16).
        var b = new byte[18];
        b[0] = 0x00;
        b[1] = 0x38;
        for (int j = 0; j < 16; j++)
        {
            b[2 + j] = (byte)(j | ((15 - j) << 4));
        }
        float[] expected = Ramp(i => i < 16 ? (i - 8) * 0.5f : (15 - (i - 16) - 8) * 0.5f);
        Assert.Equal(expected, LegacyTestData.Dequantize(GgmlType.Q4_0, b, 32));
    }

    [Fact]
    public void HandBuiltQ4_1AndQ5BlocksDecode()
    {
        // Q4_1: d = 0.25, m = -1: element j = q * 0.25 - 1.
        var q41 = new byte[20];
        LegacyTestData.WriteHalf(q41, 0, 0.25f);
        LegacyTestData.WriteHalf(q41, 2, -1f);
        q41[4] = 0xF3; // element 0 -> 3, element 16 -> 15
        Assert.Equal(-0.25f, LegacyTestData.Dequantize(GgmlType.Q4_1, q41, 32)[0]);
        Assert.Equal(2.75f, LegacyTestData.Dequantize(GgmlType.Q4_1, q41, 32)[16]);
        Assert.Equal(-1f, LegacyTestData.Dequantize(GgmlType.Q4_1, q41, 32)[1]);

        // Q5_0: d = 1; qh bit 0 and bit 17 set; qs[0] = 0x21, qs[1] = 0x00.
        // element 0 = (1 | 16) - 16 = 1; element 16 = 2 - 16 = -14; element 1 = -16; element 17 = (0 | 16) - 16 = 0.
        var q50 = new byte[22];
        LegacyTestData.WriteHalf(q50, 0, 1f);
        BitConverter.TryWriteBytes(q50.AsSpan(2, 4), (1u << 0) | (1u << 17));
        q50[6] = 0x21;
        float[] d50 = LegacyTestData.Dequantize(GgmlType.Q5_0, q50, 32);
        Assert.Equal([1f, -16f, 0f, -16f], new[] { d50[0], d50[1], d50[17], d50[31] });
        Assert.Equal(-14f, d50[16]);

        // Q5_1: d = 2, m = 0.5; all qh bits set, qs = 0xFF: every element is 31 * 2 + 0.5.
        var q51 = new byte[24];
        LegacyTestData.WriteHalf(q51, 0, 2f);
        LegacyTestData.WriteHalf(q51, 2, 0.5f);
        q51.AsSpan(4).Fill(0xFF);
        Assert.All(LegacyTestData.Dequantize(GgmlType.Q5_1, q51, 32), v => Assert.Equal(62.5f, v));
    }

    [Fact]
    public void HandBuiltQ8AndIQ4_NLBlocksDecode()
    {
        var q80 = new byte[34];
        LegacyTestData.WriteHalf(q80, 0, -0.125f);
        for (int j = 0; j < 32; j++)
        {
            q80[2 + j] = (byte)(sbyte)(j * 8 - 128);
        }
        Assert.Equal(Ramp(j => (j * 8 - 128) * -0.125f), LegacyTestData.Dequantize(GgmlType.Q8_0, q80, 32));

        var iq = new byte[18];
        LegacyTestData.WriteHalf(iq, 0, 0.5f);
        for (int j = 0; j < 16; j++)
        {
            iq[2 + j] = (byte)(j | ((15 - j) << 4));
        }
        sbyte[] k = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];
        float[] expected = Ramp(i => k[i < 16 ? i : 31 - i] * 0.5f);
        Assert.Equal(expected, LegacyTestData.Dequantize(GgmlType.IQ4_NL, iq, 32));
    }

    [Fact]
    public void Q4_0QuantizesByHand()
    {
        // max |x| is -4 (first of the ±4 pair), so d = -4 / -8 = 0.5 and q = round(x / 0.5) + 8, clamped to 15.
        float[] x = Ramp(i => i switch { 3 => -4f, 9 => 4f, 20 => 1.25f, 21 => -1.24f, _ => 0.5f });
        byte[] q = LegacyTestData.QuantizeReference(GgmlType.Q4_0, x);
        Assert.Equal(0.5f, LegacyTestData.ReadHalf(q, 0));
        Assert.Equal(0, q[2 + 3] & 0x0F);      // -4 -> 0
        Assert.Equal(15, q[2 + 9] & 0x0F);     // +4 -> 16, clamped to 15
        Assert.Equal(9, q[2 + 0] & 0x0F);      // 0.5 * 2 + 8.5 = 9.5, truncated
        Assert.Equal(11, q[2 + 4] >> 4);       // element 20: 1.25 * 2 + 8.5 = 11
        Assert.Equal(6, q[2 + 5] >> 4);        // element 21: -1.24 * 2 + 8.5 = 6.02
    }

    [Fact]
    public void Q8_0RoundsHalfAwayFromZeroAndQ8_1StoresTheSum()
    {
        // amax = 127 makes d = 1 and id = 1: the quants are roundf(x) exactly.
        float[] x = Ramp(i => i switch { 0 => 127f, 1 => 2.5f, 2 => -2.5f, 3 => 0.5f, 4 => -0.5f, 5 => 1.4999999f, 6 => -126.5f, _ => 0f });
        byte[] q = LegacyTestData.QuantizeReference(GgmlType.Q8_0, x);
        Assert.Equal(1f, LegacyTestData.ReadHalf(q, 0));
        Assert.Equal(new sbyte[] { 127, 3, -3, 1, -1, 1, -127 }, q.AsSpan(2, 7).ToArray().Select(b => (sbyte)b).ToArray());

        byte[] q1 = LegacyTestData.QuantizeReference(GgmlType.Q8_1, x);
        Assert.Equal(1f, LegacyTestData.ReadHalf(q1, 0));
        Assert.Equal(127 + 3 - 3 + 1 - 1 + 1 - 127, LegacyTestData.ReadHalf(q1, 2));
        Assert.Equal(q.AsSpan(2).ToArray(), q1.AsSpan(4).ToArray());
    }

    [Fact]
    public void AllZeroBlocksQuantizeToZeroScale()
    {
        float[] x = new float[32];
        foreach (GgmlType t in LegacyTestData.BlockTypes)
        {
            byte[] q = LegacyTestData.QuantizeReference(t, x);
            Assert.Equal(0f, LegacyTestData.ReadHalf(q, 0));
            Assert.All(LegacyTestData.Dequantize(t, q, 32), v => Assert.Equal(0f, v));
        }
        // IQ4_NL re-assigns indices against scale 0: every element lands on the table's zero-nearest entry, 1 (index 8).
        Assert.All(LegacyTestData.QuantizeReference(GgmlType.IQ4_NL, x).AsSpan(2).ToArray(), b => Assert.Equal(0x88, b));
    }

    /// <summary>Largest round-trip error a block may have, from its own input.</summary>
    private static double Bound(GgmlType t, ReadOnlySpan<float> x)
    {
        double amax = 0, min = double.MaxValue, max = double.MinValue;
        foreach (float v in x)
        {
            amax = Math.Max(amax, Math.Abs(v));
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        // fp16 rounding of d and m: relative 2^-11 for normals, absolute 2^-25 in the subnormal range (tiny blocks).
        double half = Math.ScaleB(1, -11), sub = Math.ScaleB(1, -25);
        double range = max - min;
        return t switch
        {
            GgmlType.Q4_0 => (amax / 8) + (amax * half * 2) + (8 * sub),       // the opposite extreme clamps by one step
            GgmlType.Q5_0 => (amax / 16) + (amax * half * 2) + (16 * sub),
            GgmlType.Q4_1 => (range / 30) + ((range + Math.Abs(min)) * half * 2) + (16 * sub),
            GgmlType.Q5_1 => (range / 62) + ((range + Math.Abs(min)) * half * 2) + (32 * sub),
            GgmlType.Q8_0 or GgmlType.Q8_1 => (amax / 254) + (amax * half * 2) + (127 * sub),
            // IQ4_NL: the x^2-weighted scale fit may clip the extremes, so only a loose bound; see also the rmse test.
            _ => (amax * 0.2) + (127 * sub),
        };
    }

    [Theory]
    [MemberData(nameof(LegacyTestData.BlockTypeRows), MemberType = typeof(LegacyTestData))]
    public void RoundTripErrorIsWithinTheFormatBound(GgmlType type)
    {
        var rng = new Random(100 + (int)type);
        for (int kind = 0; kind < 6; kind++)
        {
            float[] x = LegacyTestData.Floats(rng, 32 * 64, kind);
            float[] y = LegacyTestData.Dequantize(type, LegacyTestData.QuantizeReference(type, x), x.Length);
            for (int b = 0; b < 64; b++)
            {
                ReadOnlySpan<float> xb = x.AsSpan(32 * b, 32);
                double bound = Bound(type, xb) * 1.0001;
                for (int j = 0; j < 32; j++)
                {
                    double err = Math.Abs(xb[j] - y[(32 * b) + j]);
                    Assert.True(err <= bound, $"{type} kind {kind} block {b} [{j}]: {xb[j]} -> {y[(32 * b) + j]}, bound {bound}");
                }
            }
        }
    }

    [Fact]
    public void IQ4_NLBeatsQ4_0OnGaussianData()
    {
        // The non-linear grid and the scale search are the point of IQ4_NL: same 4.5 bits, lower error on bell-shaped data.
        float[] x = LegacyTestData.Floats(new Random(9), 32 * 512, 0);
        double Rmse(GgmlType t)
        {
            float[] y = LegacyTestData.Dequantize(t, LegacyTestData.QuantizeReference(t, x), x.Length);
            return Math.Sqrt(x.Zip(y, (a, b) => (double)(a - b) * (a - b)).Average());
        }
        double iq4 = Rmse(GgmlType.IQ4_NL), q40 = Rmse(GgmlType.Q4_0);
        Assert.True(iq4 < q40 * 0.95, $"IQ4_NL rmse {iq4}, Q4_0 rmse {q40}");
        Assert.True(iq4 < 0.1, $"IQ4_NL rmse {iq4}");
    }

    [Fact]
    public void IQ4_NLBestIndexPicksTheNearestValueWithTiesUp()
    {
        ReadOnlySpan<sbyte> k = IQ4_NLFormat.Values;
        var rng = new Random(2);
        for (int i = 0; i < 100_000; i++)
        {
            float x = (float)((rng.NextDouble() * 300) - 150);
            int best = 0;
            for (int j = 1; j < 16; j++)
            {
                if (Math.Abs(x - k[j]) <= Math.Abs(x - k[best]))
                {
                    best = j;
                }
            }
            Assert.Equal(best, IQ4_NLFormat.BestIndex(x));
        }
        Assert.Equal(8, IQ4_NLFormat.BestIndex(-4.5f)); // midpoint of -10 and 1 goes up
        Assert.Equal(7, IQ4_NLFormat.BestIndex(MathF.BitDecrement(-4.5f)));
        Assert.Equal(0, IQ4_NLFormat.BestIndex(-1e30f));
        Assert.Equal(15, IQ4_NLFormat.BestIndex(1e30f));
    }

    [Theory]
    [MemberData(nameof(LegacyTestData.BlockTypeIsaRows), MemberType = typeof(LegacyTestData))]
    public void SimdDequantizeMatchesScalarBitForBit(GgmlType type, int isaTier)
    {
        var isa = (LegacyIsa)isaTier;
        var rng = new Random(17);
        foreach (int blocks in LegacyTestData.BlockCounts)
        {
            byte[] raw = LegacyTestData.RawBlocks(rng, type, blocks);
            var scalar = new float[32 * blocks];
            var simd = new float[(32 * blocks) + 1];
            simd[^1] = 7;
            LegacyTestData.Dequantize(type, raw, scalar, type == GgmlType.Q8_1 ? LegacyIsas.Best : LegacyIsa.Scalar);
            LegacyTestData.Dequantize(type, raw, simd.AsSpan(0, 32 * blocks), isa);
            for (int i = 0; i < scalar.Length; i++)
            {
                Assert.Equal(BitConverter.SingleToUInt32Bits(scalar[i]), BitConverter.SingleToUInt32Bits(simd[i]));
            }
            Assert.Equal(7, simd[^1]);
        }
    }

    [Fact]
    public void Q8_1DequantizeIsQTimesD()
    {
        byte[] raw = LegacyTestData.RawBlocks(new Random(4), GgmlType.Q8_1, 5);
        float[] y = LegacyTestData.Dequantize(GgmlType.Q8_1, raw, 160);
        for (int i = 0; i < 160; i++)
        {
            Assert.Equal((sbyte)raw[(36 * (i / 32)) + 4 + (i % 32)] * LegacyTestData.ReadHalf(raw, 36 * (i / 32)), y[i]);
        }
    }

    public static IEnumerable<object[]> ActivationIsaRows() =>
        from t in new[] { GgmlType.Q8_0, GgmlType.Q8_1 } from i in LegacyIsas.Supported select new object[] { t, (int)i };

    [Theory]
    [MemberData(nameof(ActivationIsaRows))]
    public void FastActivationQuantizerIsByteIdentical(GgmlType type, int isaTier)
    {
        var isa = (LegacyIsa)isaTier;
        var rng = new Random(23);
        int size = GgmlTypes.Layout(type).TypeSize;
        foreach (int blocks in LegacyTestData.BlockCounts)
        {
            for (int kind = 0; kind < 6; kind++)
            {
                float[] x = LegacyTestData.Floats(rng, 32 * blocks, kind);
                if (kind == 5 && blocks > 0)
                {
                    // Exact ties after scaling: amax 127 * 2^-3 gives d = 2^-3, and k + 0.5 steps land on .5.
                    for (int j = 0; j < 32; j++)
                    {
                        x[j] = j == 0 ? 127f / 8 : (rng.Next(-127, 127) + 0.5f) / 8;
                    }
                }
                byte[] expected = LegacyTestData.QuantizeReference(type, x);
                var actual = new byte[(blocks * size) + 1];
                LegacyTestData.Quantize(type, x, actual, isa);
                Assert.True(expected.AsSpan().SequenceEqual(actual.AsSpan(0, expected.Length)), $"{blocks} blocks, kind {kind}");
                Assert.Equal(0, actual[^1]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(ActivationIsaRows))]
    public void CpuBackendActivationQuantizerIsTheSameOnEveryTierAndRoundsTiesToEven(GgmlType type, int isaTier)
    {
        var isa = (LegacyIsa)isaTier;
        var rng = new Random(29);
        int size = GgmlTypes.Layout(type).TypeSize;
        // amax 127/8 makes id exactly 8, so (k + 0.5)/8 lands on k + 0.5: a tie in every lane but the first.
        var x = new float[64];
        for (int j = 0; j < x.Length; j++)
        {
            x[j] = j % 32 == 0 ? 127f / 8 : (rng.Next(-126, 126) + 0.5f) / 8;
        }
        var scalar = new byte[2 * size];
        var tier = new byte[2 * size];
        LegacyTestData.Quantize(type, x, scalar, LegacyIsa.Scalar, cpu: true);
        LegacyTestData.Quantize(type, x, tier, isa, cpu: true);
        Assert.Equal(scalar, tier);
        int qsOffset = type == GgmlType.Q8_0 ? 2 : 4;
        for (int j = 1; j < 32; j++)
        {
            float scaled = x[j] * 8;
            Assert.Equal((sbyte)Math.Round(scaled, MidpointRounding.ToEven), (sbyte)tier[qsOffset + j]);
        }
        Assert.NotEqual(LegacyTestData.QuantizeReference(type, x), tier); // the _ref quantizer rounds ties away from zero
    }

    [Theory]
    [MemberData(nameof(LegacyTestData.BlockTypeRows), MemberType = typeof(LegacyTestData))]
    public void BadLengthsAreRejected(GgmlType type)
    {
        var t = LegacyTestData.Traits(type);
        Assert.Throws<ArgumentException>("dst", () => t.Dequantize(new byte[t.TypeSize], new float[31]));
        Assert.Throws<ArgumentException>("src", () => t.Dequantize(new byte[t.TypeSize - 1], new float[32]));
        Assert.Throws<ArgumentException>("src", () => t.QuantizeReference(new float[33], new byte[2 * t.TypeSize]));
        Assert.Throws<ArgumentException>("dst", () => t.QuantizeReference(new float[64], new byte[(2 * t.TypeSize) - 1]));
        Assert.Throws<ArgumentException>("dst", () => t.Quantize(new float[64], new byte[(2 * t.TypeSize) - 1]));
        if (t.VecDot is { } dot)
        {
            int ab = GgmlTypes.Layout(t.VecDotType).TypeSize;
            Assert.Throws<ArgumentException>("n", () => dot(new byte[t.TypeSize], new byte[ab], 16));
            Assert.Throws<ArgumentException>("n", () => dot(new byte[t.TypeSize], new byte[ab], -32));
            Assert.Throws<ArgumentException>("weights", () => dot(new byte[t.TypeSize], new byte[2 * ab], 64));
            Assert.Throws<ArgumentException>("activations", () => t.VecDotReference!(new byte[2 * t.TypeSize], new byte[(2 * ab) - 1], 64));
            Assert.Equal(0f, dot([], [], 0));
        }
    }
}
