using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Tensors.Tests.Quants;

/// <summary>
/// Bit-for-bit agreement with llama.cpp's own ggml (see <see cref="LegacyGgmlOracle"/>): reference quantizers,
/// dequantizers, fp16/bf16 rows and the generic dot products.
/// </summary>
public class LegacyGgmlOracleTests
{
    private static string Name(GgmlType t) => t.ToString().ToLowerInvariant();

    private static IEnumerable<float[]> Rows(int seed, int blocks)
    {
        var rng = new Random(seed);
        for (int kind = 0; kind < 6; kind++)
        {
            yield return LegacyTestData.Floats(rng, 32 * blocks, kind);
        }
        // A row with exact ties for the 8-bit quantizers and repeated extremes of both signs.
        yield return Enumerable.Range(0, 32 * blocks).Select(i => i % 32 == 0 ? 127f / 8 : i % 7 == 0 ? -127f / 8 : (rng.Next(-127, 127) + 0.5f) / 8).ToArray();
    }

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q4_1)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q8_1)]
    public void ReferenceQuantizersMatchGgml(GgmlType type)
    {
        if (!LegacyGgmlOracle.Available)
        {
            return;
        }
        foreach (float[] x in Rows(71, 64))
        {
            byte[] expected = new byte[x.Length / 32 * GgmlTypes.Layout(type).TypeSize];
            LegacyGgmlOracle.QuantizeRow($"quantize_row_{Name(type)}_ref", x, expected);
            Assert.Equal(expected, LegacyTestData.QuantizeReference(type, x));
            // The run-time activation quantizers (Quantize) follow the x86 CPU backend instead, which rounds ties
            // to even: Kernels/GgmlActivationAgreementTests compares them with llama.cpp's AVX-512 build.
        }
    }

    [Fact]
    public void IQ4_NLQuantizersMatchGgml()
    {
        if (!LegacyGgmlOracle.Available)
        {
            return;
        }
        foreach (float[] x in Rows(73, 64))
        {
            // quantize_iq4_nl without imatrix (the scale search, ntry = 7): our QuantizeReference.
            var expected = new byte[x.Length / 32 * 18];
            LegacyGgmlOracle.QuantizeIQ4_NL(x, expected, 4);
            Assert.Equal(expected, LegacyTestData.QuantizeReference(GgmlType.IQ4_NL, x));

            // quantize_row_iq4_nl_ref (ntry = -1).
            LegacyGgmlOracle.QuantizeRow("quantize_row_iq4_nl_ref", x, expected);
            var row = new byte[expected.Length];
            IQ4_NLFormat.QuantizeRowReference(x, row);
            Assert.Equal(expected, row);
        }
        // An all-zero block: ggml re-assigns the indices too (0x88).
        var zeros = new float[64];
        var z = new byte[36];
        LegacyGgmlOracle.QuantizeIQ4_NL(zeros, z, 1);
        Assert.Equal(z, LegacyTestData.QuantizeReference(GgmlType.IQ4_NL, zeros));
    }

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q4_1)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.IQ4_NL)]
    public void DequantizersMatchGgml(GgmlType type)
    {
        if (!LegacyGgmlOracle.Available)
        {
            return;
        }
        byte[] raw = LegacyTestData.RawBlocks(new Random(79), type, 97);
        var expected = new float[97 * 32];
        LegacyGgmlOracle.ToFloat($"dequantize_row_{Name(type)}", raw, expected);
        foreach (LegacyIsa isa in LegacyIsas.Supported)
        {
            var actual = new float[expected.Length];
            LegacyTestData.Dequantize(type, raw, actual, isa);
            Assert.Equal(expected.Select(BitConverter.SingleToUInt32Bits), actual.Select(BitConverter.SingleToUInt32Bits));
        }
    }

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q4_1)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.IQ4_NL)]
    public void ReferenceDotsMatchGgmlGenericBitForBit(GgmlType type)
    {
        if (!LegacyGgmlOracle.Available)
        {
            return;
        }
        var rng = new Random(83);
        GgmlType act = LegacyTestData.ActivationType(type);
        string fn = $"ggml_vec_dot_{Name(type)}_{Name(act)}_generic";
        foreach (int blocks in LegacyTestData.BlockCounts)
        {
            int n = 32 * blocks;
            byte[] w = LegacyTestData.QuantizeReference(type, LegacyTestData.Floats(rng, n, 0));
            byte[] a = LegacyTestData.QuantizeReference(act, LegacyTestData.Floats(rng, n, 2));
            Assert.Equal(LegacyGgmlOracle.VecDot(fn, n, w, a), LegacyTestData.Traits(type).VecDotReference!(w, a, n));
            byte[] rw = LegacyTestData.RawBlocks(rng, type, blocks), ra = LegacyTestData.RawBlocks(rng, act, blocks);
            Assert.Equal(LegacyGgmlOracle.VecDot(fn, n, rw, ra), LegacyTestData.Traits(type).VecDotReference!(rw, ra, n));
        }
    }

    [Fact]
    public void HalfAndBFloat16RowsMatchGgml()
    {
        if (!LegacyGgmlOracle.Available)
        {
            return;
        }
        var rng = new Random(89);
        float[] x = [.. LegacyTestData.Floats(rng, 4096, 2), .. Enumerable.Range(0, 4096).Select(_ => BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(0, 1L << 32)))];
        // ggml's software fp32 -> fp16 writes every NaN as 0x7E00 (with its sign); Half keeps the top payload bits.
        x = [.. x.Where(v => !float.IsNaN(v)), 65520f, 65519.99f, 5.9604645e-8f, 2.9802322e-8f, float.NegativeInfinity];
        var expected = new byte[2 * x.Length];
        var actual = new byte[2 * x.Length];
        LegacyGgmlOracle.QuantizeRow("ggml_fp32_to_fp16_row", x, expected);
        F16Format.QuantizeReference(x, actual);
        Assert.Equal(expected, actual);

        float[] y = [.. x, float.NaN, BitConverter.UInt32BitsToSingle(0x7F80_0001), BitConverter.UInt32BitsToSingle(0xFFBF_FFFF)];
        expected = new byte[2 * y.Length];
        actual = new byte[2 * y.Length];
        LegacyGgmlOracle.QuantizeRow("ggml_fp32_to_bf16_row_ref", y, expected);
        BF16Format.QuantizeReference(y, actual);
        Assert.Equal(expected, actual);

        var wide = new float[y.Length];
        LegacyGgmlOracle.ToFloat("ggml_bf16_to_fp32_row", expected, wide);
        var ours = new float[y.Length];
        BF16Format.Dequantize(expected, ours);
        Assert.Equal(wide.Select(BitConverter.SingleToUInt32Bits), ours.Select(BitConverter.SingleToUInt32Bits));

        byte[] halves = new byte[2 * 65536];
        for (int i = 0; i < 65536; i++)
        {
            BitConverter.TryWriteBytes(halves.AsSpan(2 * i), (ushort)i);
        }
        var hw = new float[65536];
        LegacyGgmlOracle.ToFloat("ggml_fp16_to_fp32_row", halves, hw);
        var hours = new float[65536];
        F16Format.Dequantize(halves, hours);
        Assert.Equal(hw.Select(BitConverter.SingleToUInt32Bits), hours.Select(BitConverter.SingleToUInt32Bits));
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    public void FloatDotsAgreeWithGgml(GgmlType type)
    {
        // ggml's SSE build sums these in float vectors, not in double like its scalar path: compare with a tolerance.
        if (!LegacyGgmlOracle.Available)
        {
            return;
        }
        var rng = new Random(97);
        var t = LegacyTestData.Traits(type);
        int es = t.TypeSize;
        for (int n = 0; n <= 300; n += 7)
        {
            float[] xf = LegacyTestData.Floats(rng, n, 0), yf = LegacyTestData.Floats(rng, n, 2);
            byte[] x = new byte[n * es], y = new byte[n * es];
            t.QuantizeReference(xf, x);
            t.QuantizeReference(yf, y);
            float ggml = LegacyGgmlOracle.VecDot($"ggml_vec_dot_{Name(type)}", n, x, y);
            float[] xd = LegacyTestData.Dequantize(type, x, n), yd = LegacyTestData.Dequantize(type, y, n);
            double scale = LegacyTestData.AbsProductSum(xd, yd);
            Assert.True(Math.Abs(ggml - t.VecDot!(x, y, n)) <= (1e-5 * scale) + 1e-30, $"n={n}");
            Assert.True(Math.Abs(ggml - t.VecDotReference!(x, y, n)) <= (1e-5 * scale) + 1e-30, $"n={n}");
        }
    }
}
