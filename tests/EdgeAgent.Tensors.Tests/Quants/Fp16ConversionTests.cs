using System.Runtime.InteropServices;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Tensors.Tests.Quants;

/// <summary>fp16 and bf16 conversions: scalar against <see cref="Half"/> and ggml's rules, SIMD against scalar.</summary>
public class Fp16ConversionTests
{
    private static ushort[] AllHalves() => Enumerable.Range(0, 65536).Select(i => (ushort)i).ToArray();

    [Fact]
    public void HalfToFloatIsExactForAllHalves()
    {
        for (int i = 0; i < 65536; i++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf((ushort)i);
            Assert.Equal(BitConverter.SingleToUInt32Bits(expected), BitConverter.SingleToUInt32Bits(Fp16Conversions.ToFloat((ushort)i)));
            Assert.Equal(BitConverter.SingleToUInt32Bits(expected), BitConverter.SingleToUInt32Bits(Fp16Conversions.ToFloatComputed((ushort)i)));
        }
    }

    [Theory]
    [MemberData(nameof(LegacyTestData.IsaRows), MemberType = typeof(LegacyTestData))]
    public void SimdHalfToFloatMatchesScalarForAllHalves(int isaTier)
    {
        var isa = (LegacyIsa)isaTier;
        byte[] src = MemoryMarshal.AsBytes(AllHalves().AsSpan()).ToArray();
        var dst = new float[65536];
        F16Format.Dequantize(src, dst, isa);
        for (int i = 0; i < 65536; i++)
        {
            Assert.Equal(BitConverter.SingleToUInt32Bits(Fp16Conversions.ToFloat((ushort)i)), BitConverter.SingleToUInt32Bits(dst[i]));
        }
    }

    /// <summary>
    /// Floats around every half: the half itself, the midpoints to its neighbours (ties go to even), one float ulp
    /// either side of those, and the NaNs and infinities, plus random bit patterns.
    /// </summary>
    private static float[] HardFloats()
    {
        var list = new List<float>();
        for (int h = 0; h < 0x7C00; h++)
        {
            float v = (float)BitConverter.UInt16BitsToHalf((ushort)h);
            float next = (float)BitConverter.UInt16BitsToHalf((ushort)(h + 1));
            float mid = (float)(((double)v + next) / 2);
            foreach (float f in new[] { v, mid, MathF.BitDecrement(mid), MathF.BitIncrement(mid) })
            {
                list.Add(f);
                list.Add(-f);
            }
        }
        list.AddRange([65504f, 65519.99f, 65520f, 65536f, 1e30f, float.MaxValue, float.PositiveInfinity, float.NegativeInfinity,
            float.NaN, -float.NaN, BitConverter.UInt32BitsToSingle(0x7F80_0001), BitConverter.UInt32BitsToSingle(0xFFC1_2345),
            BitConverter.UInt32BitsToSingle(0x7FBF_FFFF), float.Epsilon, -float.Epsilon, 1e-8f, 2.98e-8f, 2.99e-8f, 5.96e-8f]);
        var rng = new Random(1234);
        for (int i = 0; i < 200_000; i++)
        {
            list.Add(BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(0, 1L << 32)));
        }
        return [.. list];
    }

    [Fact]
    public void FloatToHalfReferenceRoundsLikeHalf()
    {
        float[] x = HardFloats();
        var dst = new byte[2 * x.Length];
        F16Format.QuantizeReference(x, dst);
        ushort[] h = MemoryMarshal.Cast<byte, ushort>(dst).ToArray();
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(BitConverter.HalfToUInt16Bits((Half)x[i]), h[i]);
        }
    }

    [Theory]
    [MemberData(nameof(LegacyTestData.IsaRows), MemberType = typeof(LegacyTestData))]
    public void SimdFloatToHalfMatchesReference(int isaTier)
    {
        var isa = (LegacyIsa)isaTier;
        float[] x = HardFloats();
        var expected = new byte[2 * x.Length];
        var actual = new byte[2 * x.Length];
        F16Format.QuantizeReference(x, expected);
        F16Format.Quantize(x, actual, isa);
        AssertSameBits(expected, actual);
    }

    [Fact]
    public void HalfKnownValues()
    {
        Assert.Equal(0x3C00, Fp16Conversions.FromFloat(1.0f));
        Assert.Equal(0xC000, Fp16Conversions.FromFloat(-2.0f));
        Assert.Equal(0x7BFF, Fp16Conversions.FromFloat(65504f));
        Assert.Equal(0x7C00, Fp16Conversions.FromFloat(65520f)); // the tie above the largest half rounds to infinity
        Assert.Equal(0x7BFF, Fp16Conversions.FromFloat(65519.996f));
        Assert.Equal(0x0001, Fp16Conversions.FromFloat(5.9604645e-8f)); // smallest subnormal
        Assert.Equal(0x0000, Fp16Conversions.FromFloat(2.9802322e-8f)); // half of it: tie to even (zero)
        Assert.Equal(0x3C00, Fp16Conversions.FromFloat(1.00048828125f)); // 1 + 2^-11: tie to even (down)
        Assert.Equal(0x3C02, Fp16Conversions.FromFloat(1.00146484375f)); // 1 + 3 * 2^-11: tie to even (up)
        Assert.Equal(0x8000, Fp16Conversions.FromFloat(-0.0f));
        Assert.Equal(1.0f, Fp16Conversions.ToFloat(0x3C00));
        Assert.Equal(5.9604645e-8f, Fp16Conversions.ToFloat(0x0001));
        Assert.Equal(float.NegativeInfinity, Fp16Conversions.ToFloat(0xFC00));
    }

    [Fact]
    public void BFloat16RoundsAsGgml()
    {
        Assert.Equal(0x3F80, BF16Conversions.FromFloat(1.0f));
        Assert.Equal(0x3F80, BF16Conversions.FromFloat(BitConverter.UInt32BitsToSingle(0x3F80_8000))); // tie, even stays
        Assert.Equal(0x3F82, BF16Conversions.FromFloat(BitConverter.UInt32BitsToSingle(0x3F81_8000))); // tie, odd rounds up
        Assert.Equal(0x3F81, BF16Conversions.FromFloat(BitConverter.UInt32BitsToSingle(0x3F80_8001)));
        Assert.Equal(0x7F80, BF16Conversions.FromFloat(BitConverter.UInt32BitsToSingle(0x7F7F_FFFF))); // overflows to inf
        Assert.Equal(0x0001, BF16Conversions.FromFloat(BitConverter.UInt32BitsToSingle(0x0000_8001))); // subnormals are kept
        Assert.Equal(0xFFC0 | 0x40, BF16Conversions.FromFloat(float.NaN)); // .NET's NaN is 0xFFC00000
        Assert.Equal(0x7FC0 | 0x40, BF16Conversions.FromFloat(BitConverter.UInt32BitsToSingle(0x7FC0_0000)));
        Assert.Equal(0x7F80 | 0x40, BF16Conversions.FromFloat(BitConverter.UInt32BitsToSingle(0x7F80_0001))); // signalling NaN made quiet
        Assert.Equal(0xFFC1, BF16Conversions.FromFloat(BitConverter.UInt32BitsToSingle(0xFF81_2345)));
        Assert.Equal(0x7F80, BF16Conversions.FromFloat(float.PositiveInfinity));
        Assert.Equal(-2.0f, BF16Conversions.ToFloat(0xC000));
    }

    [Theory]
    [MemberData(nameof(LegacyTestData.IsaRows), MemberType = typeof(LegacyTestData))]
    public void SimdBFloat16MatchesScalar(int isaTier)
    {
        var isa = (LegacyIsa)isaTier;
        float[] x = HardFloats();
        var expected = new byte[2 * x.Length];
        var actual = new byte[2 * x.Length];
        BF16Format.QuantizeReference(x, expected);
        BF16Format.Quantize(x, actual, isa);
        AssertSameBits(expected, actual);

        var back = new float[x.Length];
        BF16Format.Dequantize(actual, back, isa);
        ushort[] b = MemoryMarshal.Cast<byte, ushort>(actual).ToArray();
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal((uint)b[i] << 16, BitConverter.SingleToUInt32Bits(back[i]));
        }
    }

    private static void AssertSameBits(byte[] expected, byte[] actual)
    {
        int i = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(i == expected.Length, $"first difference at byte {i}");
    }
}
