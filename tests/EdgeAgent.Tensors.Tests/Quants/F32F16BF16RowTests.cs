using System.Runtime.InteropServices;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Tensors.Tests.Quants;

/// <summary>F32, F16 and BF16 rows: every length 0..256 through every tier, to hit each remainder path.</summary>
public class F32F16BF16RowTests
{
    public static IEnumerable<object[]> TypeIsaRows() =>
        from t in new[] { GgmlType.F32, GgmlType.F16, GgmlType.BF16 } from i in LegacyIsas.Supported select new object[] { t, (int)i };

    private static int ElementSize(GgmlType t) => t == GgmlType.F32 ? 4 : 2;

    private static byte[] Encode(GgmlType t, float[] x)
    {
        var b = new byte[x.Length * ElementSize(t)];
        LegacyTestData.Traits(t).QuantizeReference(x, b);
        return b;
    }

    [Theory]
    [MemberData(nameof(TypeIsaRows))]
    public void DotMatchesReferenceForEveryLength(GgmlType type, int isaTier)
    {
        var isa = (LegacyIsa)isaTier;
        var rng = new Random(7 + (int)type);
        for (int n = 0; n <= 256; n++)
        {
            float[] xf = LegacyTestData.Floats(rng, n, n % 3), yf = LegacyTestData.Floats(rng, n, 0);
            byte[] x = Encode(type, xf), y = Encode(type, yf);
            float reference = LegacyTestData.Traits(type).VecDotReference!(x, y, n);
            float fast = LegacyTestData.VecDot(type, x, y, n, isa);
            double scale = LegacyTestData.AbsProductSum(Decode(type, x, n), Decode(type, y, n));
            Assert.True(Math.Abs(fast - reference) <= (1e-5 * scale) + 1e-30, $"n={n}: fast {fast} reference {reference} scale {scale}");
        }
    }

    [Theory]
    [MemberData(nameof(TypeIsaRows))]
    public void DotOfSmallIntegersIsExact(GgmlType type, int isaTier)
    {
        var isa = (LegacyIsa)isaTier;
        // Small integers are exact in every format, and their dot stays far below 2^24: no rounding anywhere.
        var rng = new Random(11);
        for (int n = 0; n <= 256; n++)
        {
            float[] xf = Enumerable.Range(0, n).Select(_ => (float)rng.Next(-64, 65)).ToArray();
            float[] yf = Enumerable.Range(0, n).Select(_ => (float)rng.Next(-64, 65)).ToArray();
            double exact = LegacyTestData.DotDouble(xf, yf);
            byte[] x = Encode(type, xf), y = Encode(type, yf);
            Assert.Equal(exact, LegacyTestData.VecDot(type, x, y, n, isa));
            Assert.Equal(exact, LegacyTestData.Traits(type).VecDotReference!(x, y, n));
        }
    }

    [Theory]
    [MemberData(nameof(TypeIsaRows))]
    public void ConversionsMatchScalarForEveryLength(GgmlType type, int isaTier)
    {
        var isa = (LegacyIsa)isaTier;
        if (type == GgmlType.F32)
        {
            return; // plain copies, covered by RoundTrip
        }
        var rng = new Random(5);
        for (int n = 0; n <= 256; n++)
        {
            float[] xf = LegacyTestData.Floats(rng, n, 2);
            byte[] expected = Encode(type, xf);
            var actual = new byte[expected.Length + 4];
            LegacyTestData.Quantize(type, xf, actual, isa);
            Assert.True(expected.AsSpan().SequenceEqual(actual.AsSpan(0, expected.Length)), $"narrow n={n}");
            Assert.Equal(0, actual[^1] | actual[^2] | actual[^3] | actual[^4]); // nothing written past the row

            var back = new float[n + 1];
            back[n] = 42;
            LegacyTestData.Dequantize(type, expected, back.AsSpan(0, n), isa);
            float[] scalar = Decode(type, expected, n);
            Assert.True(MemoryMarshal.AsBytes(scalar.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(back.AsSpan(0, n))), $"widen n={n}");
            Assert.Equal(42, back[n]);
        }
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    public void RoundTripErrorIsWithinHalfAnUlp(GgmlType type)
    {
        var rng = new Random(3);
        float[] x = LegacyTestData.Floats(rng, 4096, 0);
        float[] y = Decode(type, Encode(type, x), x.Length);
        // Relative half-ulp: 2^-24 (F32, exact), 2^-11 (F16 normals), 2^-8 (BF16).
        double rel = type switch { GgmlType.F32 => 0, GgmlType.F16 => Math.ScaleB(1, -11), _ => Math.ScaleB(1, -8) };
        for (int i = 0; i < x.Length; i++)
        {
            Assert.True(Math.Abs(x[i] - y[i]) <= (rel * Math.Abs(x[i])) + 3e-8, $"{x[i]} -> {y[i]}");
        }
        Assert.Equal(x, Decode(GgmlType.F32, Encode(GgmlType.F32, x), x.Length));
    }

    [Fact]
    public void KnownHalfAndBFloat16Rows()
    {
        byte[] h = [0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38, 0x00, 0x7C];       // 1, -2, 0.5, +inf
        Assert.Equal([1f, -2f, 0.5f, float.PositiveInfinity], Decode(GgmlType.F16, h, 4));
        byte[] b = [0x80, 0x3F, 0x00, 0xC0, 0x49, 0x40];                   // 1, -2, 3.140625
        Assert.Equal([1f, -2f, 3.140625f], Decode(GgmlType.BF16, b, 3));
        Assert.Equal(h, Encode(GgmlType.F16, [1f, -2f, 0.5f, float.PositiveInfinity]));
        Assert.Equal(b, Encode(GgmlType.BF16, [1f, -2f, MathF.PI]));
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    public void ShortBuffersAreRejected(GgmlType type)
    {
        var t = LegacyTestData.Traits(type);
        int es = ElementSize(type);
        Assert.Throws<ArgumentException>("src", () => t.Dequantize(new byte[(3 * es) - 1], new float[3]));
        Assert.Throws<ArgumentException>("dst", () => t.Quantize(new float[3], new byte[(3 * es) - 1]));
        Assert.Throws<ArgumentException>("dst", () => t.QuantizeReference(new float[3], new byte[(3 * es) - 1]));
        Assert.Throws<ArgumentException>("weights", () => t.VecDot!(new byte[es], new byte[2 * es], 2));
        Assert.Throws<ArgumentException>("activations", () => t.VecDot!(new byte[2 * es], new byte[es], 2));
        Assert.Throws<ArgumentException>("n", () => t.VecDotReference!(new byte[2 * es], new byte[2 * es], -1));
        Assert.Equal(0f, t.VecDot!([], [], 0));
    }

    private static float[] Decode(GgmlType t, byte[] b, int n)
    {
        var y = new float[n];
        LegacyTestData.Traits(t).Dequantize(b, y);
        return y;
    }
}
