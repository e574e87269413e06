using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Tensors.Tests.Quants;

/// <summary>
/// Legacy dots: every SIMD tier against the scalar reference (which follows ggml's generic C), on block counts
/// 0..8 and odd larger ones, realistic and raw data; and integer-exact cases where every tier must be exact.
/// </summary>
public class LegacyVecDotTests
{
    private static int TypeSize(GgmlType t) => GgmlTypes.Layout(t).TypeSize;

    private static void AssertNear(float reference, float fast, double scale, string what) =>
        Assert.True(Math.Abs(fast - reference) <= (1e-5 * scale) + 1e-30, $"{what}: fast {fast} reference {reference} scale {scale}");

    [Theory]
    [MemberData(nameof(LegacyTestData.WeightTypeIsaRows), MemberType = typeof(LegacyTestData))]
    public void FastDotMatchesReferenceOnQuantizedData(GgmlType type, int isaTier)
    {
        var isa = (LegacyIsa)isaTier;
        var rng = new Random(31 + (int)type);
        GgmlType act = LegacyTestData.ActivationType(type);
        foreach (int blocks in LegacyTestData.BlockCounts)
        {
            int n = 32 * blocks;
            byte[] w = LegacyTestData.QuantizeReference(type, LegacyTestData.Floats(rng, n, blocks % 6));
            byte[] a = LegacyTestData.QuantizeReference(act, LegacyTestData.Floats(rng, n, 0));
            float reference = LegacyTestData.Traits(type).VecDotReference!(w, a, n);
            float fast = LegacyTestData.VecDot(type, w, a, n, isa);
            double scale = LegacyTestData.AbsProductSum(LegacyTestData.Dequantize(type, w, n), LegacyTestData.Dequantize(act, a, n));
            AssertNear(reference, fast, scale, $"{type} {isa} {blocks} blocks");
        }
    }

    [Theory]
    [MemberData(nameof(LegacyTestData.WeightTypeIsaRows), MemberType = typeof(LegacyTestData))]
    public void FastDotMatchesReferenceOnRawBlocks(GgmlType type, int isaTier)
    {
        var isa = (LegacyIsa)isaTier;
        // Random bytes hit every quant value, -128 in Q8_0 weights and activations included.
        var rng = new Random(41 + (int)type);
        GgmlType act = LegacyTestData.ActivationType(type);
        for (int round = 0; round < 4; round++)
        {
            foreach (int blocks in LegacyTestData.BlockCounts)
            {
                int n = 32 * blocks;
                byte[] w = LegacyTestData.RawBlocks(rng, type, blocks);
                byte[] a = LegacyTestData.RawBlocks(rng, act, blocks);
                float reference = LegacyTestData.Traits(type).VecDotReference!(w, a, n);
                float fast = LegacyTestData.VecDot(type, w, a, n, isa);
                double scale = MinTermAwareScale(type, w, a, n);
                AssertNear(reference, fast, scale, $"{type} {isa} {blocks} blocks");
            }
        }
    }

    // Raw Q8_1 blocks carry an s unrelated to their quants, so the m * s terms enter the error scale on their own.
    private static double MinTermAwareScale(GgmlType type, byte[] w, byte[] a, int n)
    {
        float[] wf = LegacyTestData.Dequantize(type, w, n);
        float[] af = LegacyTestData.Dequantize(LegacyTestData.ActivationType(type), a, n);
        double scale = LegacyTestData.AbsProductSum(wf, af);
        if (type is GgmlType.Q4_1 or GgmlType.Q5_1)
        {
            int xs = TypeSize(type), ys = TypeSize(GgmlType.Q8_1);
            for (int b = 0; b < n / 32; b++)
            {
                scale += Math.Abs(LegacyTestData.ReadHalf(w, (b * xs) + 2) * (double)LegacyTestData.ReadHalf(a, (b * ys) + 2)) * 32;
            }
        }
        return scale;
    }

    [Theory]
    [MemberData(nameof(LegacyTestData.WeightTypeIsaRows), MemberType = typeof(LegacyTestData))]
    public void DotIsIntegerExactWithPowerOfTwoScales(GgmlType type, int isaTier)
    {
        var isa = (LegacyIsa)isaTier;
        // With power-of-two scales (and m a multiple of d, s = d * sum(q) exactly) every dequantized value, every
        // product and every partial sum is a small multiple of one power of two: float arithmetic is exact in any
        // order. So the dot must equal the double dot of the dequantized rows exactly, in every tier.
        var rng = new Random(53 + (int)type);
        GgmlType act = LegacyTestData.ActivationType(type);
        int xs = TypeSize(type), ys = TypeSize(act);
        foreach (int blocks in LegacyTestData.BlockCounts)
        {
            int n = 32 * blocks;
            byte[] w = LegacyTestData.RawBlocks(rng, type, blocks);
            byte[] a = new byte[blocks * ys];
            for (int b = 0; b < blocks; b++)
            {
                float dx = MathF.ScaleB(1, rng.Next(-4, 0)), dy = MathF.ScaleB(1, rng.Next(-6, -3));
                LegacyTestData.WriteHalf(w, b * xs, rng.Next(2) == 0 ? dx : -dx);
                if (type is GgmlType.Q4_1 or GgmlType.Q5_1)
                {
                    LegacyTestData.WriteHalf(w, (b * xs) + 2, dx * rng.Next(-40, 40));
                }
                LegacyTestData.WriteHalf(a, b * ys, dy);
                int sum = 0;
                int qs = act == GgmlType.Q8_1 ? 4 : 2;
                for (int j = 0; j < 32; j++)
                {
                    int q = rng.Next(-60, 61);
                    a[(b * ys) + qs + j] = (byte)(sbyte)q;
                    sum += q;
                }
                if (act == GgmlType.Q8_1)
                {
                    LegacyTestData.WriteHalf(a, (b * ys) + 2, dy * sum); // |sum| < 2048: exact in fp16
                }
            }
            double exact = LegacyTestData.DotDouble(LegacyTestData.Dequantize(type, w, n), LegacyTestData.Dequantize(act, a, n));
            Assert.Equal(exact, LegacyTestData.Traits(type).VecDotReference!(w, a, n));
            Assert.Equal(exact, LegacyTestData.VecDot(type, w, a, n, isa));
        }
    }

    [Theory]
    [MemberData(nameof(LegacyTestData.WeightTypeRows), MemberType = typeof(LegacyTestData))]
    public void ReferenceDotAgreesWithDequantizedRows(GgmlType type)
    {
        var rng = new Random(61 + (int)type);
        GgmlType act = LegacyTestData.ActivationType(type);
        int n = 32 * 37;
        float[] x = LegacyTestData.Floats(rng, n, 0), y = LegacyTestData.Floats(rng, n, 2);
        byte[] w = LegacyTestData.QuantizeReference(type, x);
        byte[] a = LegacyTestData.QuantizeReference(act, y);
        float[] wf = LegacyTestData.Dequantize(type, w, n), af = LegacyTestData.Dequantize(act, a, n);
        double expected = LegacyTestData.DotDouble(wf, af);
        float reference = LegacyTestData.Traits(type).VecDotReference!(w, a, n);
        // Q8_1's s is d * sum(q) rounded to fp16, so the offset formats carry a further 2^-11 relative term.
        double tol = 1e-5 * LegacyTestData.AbsProductSum(wf, af) * (type is GgmlType.Q4_1 or GgmlType.Q5_1 ? 100 : 1);
        Assert.True(Math.Abs(reference - expected) <= tol, $"{type}: {reference} vs {expected}");
        // ... and against the unquantized floats, loosely: the quantization error itself.
        Assert.True(Math.Abs(reference - LegacyTestData.DotDouble(x, y)) <= 0.1 * LegacyTestData.AbsProductSum(x, y));
    }

    [Fact]
    public void HandComputedQ4_0Dot()
    {
        // One block: weights q = j % 16 (values q - 8), d = 0.5; activations all 1 with d = 0.25.
        var w = new byte[18];
        LegacyTestData.WriteHalf(w, 0, 0.5f);
        for (int j = 0; j < 16; j++)
        {
            w[2 + j] = (byte)(j | (j << 4));
        }
        var a = new byte[34];
        LegacyTestData.WriteHalf(a, 0, 0.25f);
        a.AsSpan(2).Fill(1);
        // sum(q - 8) over two copies of 0..15 = 2 * (120 - 128) = -16; times 0.5 * 0.25.
        Assert.Equal(-2f, Q4_0Format.VecDotReference(w, a, 32));
        foreach (LegacyIsa isa in LegacyIsas.Supported)
        {
            Assert.Equal(-2f, Q4_0Format.VecDot(w, a, 32, isa));
        }
    }

    [Fact]
    public void RegistryRowsPairTheRightActivationTypes()
    {
        Assert.Equal(GgmlType.Q8_0, LegacyTestData.ActivationType(GgmlType.Q4_0));
        Assert.Equal(GgmlType.Q8_1, LegacyTestData.ActivationType(GgmlType.Q4_1));
        Assert.Equal(GgmlType.Q8_0, LegacyTestData.ActivationType(GgmlType.Q5_0));
        Assert.Equal(GgmlType.Q8_1, LegacyTestData.ActivationType(GgmlType.Q5_1));
        Assert.Equal(GgmlType.Q8_0, LegacyTestData.ActivationType(GgmlType.Q8_0));
        Assert.Equal(GgmlType.Q8_0, LegacyTestData.ActivationType(GgmlType.IQ4_NL));
        foreach (GgmlType t in LegacyTestData.WeightTypes)
        {
            // The public delegates dispatch to the widest tier.
            var rng = new Random(1);
            byte[] w = LegacyTestData.RawBlocks(rng, t, 3);
            byte[] a = LegacyTestData.RawBlocks(rng, LegacyTestData.ActivationType(t), 3);
            Assert.Equal(LegacyTestData.VecDot(t, w, a, 96, LegacyIsas.Best), LegacyTestData.Traits(t).VecDot!(w, a, 96));
        }
    }
}
