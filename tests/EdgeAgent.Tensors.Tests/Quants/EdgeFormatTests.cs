using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Tensors.Tests.Quants;

/// <summary>EdgeAgent's own formats: ids and layouts, round-trip error bounds, and SIMD dots equal to scalar ones.</summary>
public class EdgeFormatTests
{
    public static TheoryData<uint> AllEdgeTypes()
    {
        var data = new TheoryData<uint>();
        foreach (var l in EdgeQuantTypes.Layouts())
        {
            data.Add((uint)l.Type);
        }
        return data;
    }

    private static float[] Gaussian(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = scale * MathF.Sqrt(-2 * MathF.Log(1 - rng.NextSingle())) * MathF.Cos(2 * MathF.PI * rng.NextSingle());
        }
        return x;
    }

    private static byte[] Quantize(GgmlType type, float[] x)
    {
        var t = QuantRegistry.Get(type);
        var q = new byte[x.Length / t.BlockSize * t.TypeSize];
        t.QuantizeReference(x, q);
        return q;
    }

    [Fact]
    public void IdsFollowTheDocumentedScheme()
    {
        Assert.Equal(1004u, (uint)EdgeQuantTypes.Id(EdgeQuantFamily.Affine, 4, 32));
        Assert.Equal(1128u, (uint)EdgeQuantTypes.Id(EdgeQuantFamily.Symmetric, 8, 128));
        Assert.Equal(1304u, (uint)EdgeQuantTypes.Id(EdgeQuantFamily.NF4, 4, 32));
        Assert.Equal(1504u, (uint)EdgeQuantTypes.Id(EdgeQuantFamily.Sparse24, 4, 32));
        Assert.False(EdgeQuantTypes.TryId(EdgeQuantFamily.NF4, 3, 32, out _));
        Assert.False(EdgeQuantTypes.TryId(EdgeQuantFamily.Affine, 9, 32, out _));
        Assert.False(EdgeQuantTypes.TryId(EdgeQuantFamily.Affine, 4, 48, out _));
        Assert.True(GgmlTypes.TryParse("EA_AFFINE_Q4_G128", out var t) && (uint)t == 1024);
        Assert.Equal(4 + 16, GgmlTypes.Layout(EdgeQuantTypes.Id(EdgeQuantFamily.Affine, 4, 32)).TypeSize);
        Assert.Equal(2 + 16 + 128, GgmlTypes.Layout(EdgeQuantTypes.Id(EdgeQuantFamily.KMeans, 4, 256)).TypeSize);
        Assert.Equal(14, GgmlTypes.Layout(EdgeQuantTypes.Id(EdgeQuantFamily.Sparse24, 4, 32)).TypeSize);
    }

    [Theory]
    [MemberData(nameof(AllEdgeTypes))]
    public void EveryTypeIsARegistryRowWithADotKernel(uint id)
    {
        var t = QuantRegistry.Get((GgmlType)id);
        Assert.NotNull(t.VecDot);
        Assert.NotNull(t.VecDotReference);
        Assert.True(EdgeQuantTypes.TryDescribe(t.Type, out var family, out int bits, out int group));
        Assert.Equal(t.BlockSize, group);
        Assert.Equal(EdgeQuantTypes.BlockBytes(family, bits, group), t.TypeSize);
        Assert.Contains(t.VecDotType, new[] { GgmlType.Q8_0, GgmlType.Q8_1 });
    }

    [Theory]
    [MemberData(nameof(AllEdgeTypes))]
    public void SimdDotEqualsScalarDotOnOddBlockCounts(uint id)
    {
        var type = (GgmlType)id;
        var t = QuantRegistry.Get(type);
        var a = QuantRegistry.Get(t.VecDotType);
        foreach (int blocks in new[] { 1, 3, 7 })
        {
            int n = blocks * t.BlockSize;
            var w = Gaussian(n, (int)id + blocks);
            var x = Gaussian(n, 99 + blocks);
            var qw = Quantize(type, w);
            var qx = new byte[n / 32 * a.TypeSize];
            a.Quantize(x, qx);
            float simd = t.VecDot!(qw, qx, n);
            float scalar = t.VecDotReference!(qw, qx, n);
            Assert.Equal(scalar, simd);
            // And both equal the float dot of the dequantized rows up to float rounding.
            var dw = new float[n];
            var dx = new float[n];
            t.Dequantize(qw, dw);
            a.Dequantize(qx, dx);
            double exact = 0, mag = 0;
            for (int i = 0; i < n; i++)
            {
                exact += (double)dw[i] * dx[i];
                mag += Math.Abs((double)dw[i] * dx[i]);
            }
            Assert.True(Math.Abs(exact - scalar) <= 1e-4 * mag + 1e-6, $"{t.Name} n={n}: {scalar} vs {exact}");
        }
    }

    [Theory]
    [InlineData(EdgeQuantFamily.Affine, 2, 32, 0.42)]
    [InlineData(EdgeQuantFamily.Affine, 3, 32, 0.18)]
    [InlineData(EdgeQuantFamily.Affine, 4, 32, 0.09)]
    [InlineData(EdgeQuantFamily.Affine, 4, 128, 0.12)]
    [InlineData(EdgeQuantFamily.Affine, 8, 64, 0.007)]
    [InlineData(EdgeQuantFamily.Symmetric, 4, 32, 0.11)]
    [InlineData(EdgeQuantFamily.Symmetric, 6, 32, 0.03)]
    [InlineData(EdgeQuantFamily.Symmetric, 8, 256, 0.01)]
    [InlineData(EdgeQuantFamily.Log2, 4, 32, 0.2)]
    [InlineData(EdgeQuantFamily.NF4, 4, 64, 0.1)]
    [InlineData(EdgeQuantFamily.KMeans, 4, 128, 0.11)]
    [InlineData(EdgeQuantFamily.KMeans, 2, 64, 0.4)]
    public void RoundTripErrorIsWithinItsBound(EdgeQuantFamily family, int bits, int group, double maxRelativeRmse)
    {
        var type = EdgeQuantTypes.Id(family, bits, group);
        var x = Gaussian(4096, 7, 0.05f);
        var y = new float[x.Length];
        QuantRegistry.Get(type).Dequantize(Quantize(type, x), y);
        double err = 0, norm = 0;
        for (int i = 0; i < x.Length; i++)
        {
            err += (x[i] - y[i]) * (double)(x[i] - y[i]);
            norm += x[i] * (double)x[i];
        }
        double rel = Math.Sqrt(err / norm);
        Assert.True(rel <= maxRelativeRmse, $"{GgmlTypes.Layout(type).Name}: relative RMSE {rel:F4} > {maxRelativeRmse}");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(8)]
    public void AffineErrorIsAtMostHalfAStep(int bits)
    {
        var f = CodeBlockFormat.Get(EdgeQuantFamily.Affine, bits, 32);
        var x = Gaussian(32 * 16, bits);
        var q = new byte[16 * f.BlockBytes];
        f.QuantizeReference(x, q);
        var y = new float[x.Length];
        f.Dequantize(q, y);
        for (int b = 0; b < 16; b++)
        {
            var xs = x.AsSpan(b * 32, 32);
            float step = (xs.ToArray().Max() - xs.ToArray().Min()) / ((1 << bits) - 1);
            for (int j = 0; j < 32; j++)
            {
                // Half a step, plus the fp16 rounding of d and m (relative 2^-11 of the range).
                Assert.True(Math.Abs(xs[j] - y[(b * 32) + j]) <= (0.5f * step) + (0.002f * step * (1 << bits)) + 1e-3f, $"block {b} elem {j}");
            }
        }
    }

    [Fact]
    public void CodesRoundTripThroughEveryPackingWidth()
    {
        for (int bits = 2; bits <= 8; bits++)
        {
            var f = CodeBlockFormat.Get(EdgeQuantFamily.Symmetric, bits, 64);
            var codes = new byte[64];
            var rng = new Random(bits);
            for (int i = 0; i < 64; i++)
            {
                codes[i] = (byte)rng.Next(1 << bits);
            }
            var block = new byte[f.BlockBytes];
            f.EncodeBlock(block, 0.5f, 0, codes);
            var back = new byte[64];
            f.DecodeBlock(block, back, out float d, out _, new sbyte[16]);
            Assert.Equal(codes, back);
            Assert.Equal(0.5f, d);
        }
    }

    [Fact]
    public void SparseFormatKeepsATwoFourRowExactlyInPlace()
    {
        var x = Gaussian(32 * 5, 3);
        var rng = new Random(5);
        for (int g = 0; g < x.Length; g += 4)
        {
            int keepA = rng.Next(4), keepB = (keepA + 1 + rng.Next(3)) % 4;
            for (int i = 0; i < 4; i++)
            {
                if (i != keepA && i != keepB)
                {
                    x[g + i] = 0;
                }
            }
        }
        Assert.True(Sparse24Format.IsTwoFour(x));
        foreach (int bits in new[] { 4, 8 })
        {
            var type = EdgeQuantTypes.Id(EdgeQuantFamily.Sparse24, bits, 32);
            var y = new float[x.Length];
            QuantRegistry.Get(type).Dequantize(Quantize(type, x), y);
            Assert.True(Sparse24Format.IsTwoFour(y));
            for (int i = 0; i < x.Length; i++)
            {
                if (x[i] == 0)
                {
                    Assert.Equal(0f, y[i]);
                }
                else
                {
                    Assert.True(Math.Abs(x[i] - y[i]) <= (bits == 4 ? 0.6f : 0.04f), $"{bits}-bit elem {i}: {x[i]} vs {y[i]}");
                }
            }
        }
        Assert.False(Sparse24Format.IsTwoFour(Gaussian(32, 1)));
    }
}
