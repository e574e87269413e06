using EdgeAgent.Tensors.Kernels;

namespace EdgeAgent.Tensors.Tests.Kernels;

/// <summary>The sixteen-at-a-time attention dots equal the one-at-a-time dots (llama.cpp's order) bit for bit.</summary>
public sealed class AttentionDotsTests
{
    private static float[] Random(Random rng, int n, float scale = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            // Mixed magnitudes so that the order of additions shows in the roundings.
            a[i] = (float)((rng.NextDouble() * 2 - 1) * Math.Pow(10, rng.Next(-3, 3))) * scale;
        }
        return a;
    }

    [Theory]
    [InlineData(64, 1)]
    [InlineData(64, 15)]
    [InlineData(64, 16)]
    [InlineData(64, 37)]
    [InlineData(64, 190)]
    [InlineData(128, 70)]
    public void Scores_equal_DotGgml_times_the_scale(int headDim, int positions)
    {
        if (!AttentionDots.IsSupported)
        {
            return; // the batched kernel needs AVX-512; the engine keeps the one-at-a-time path there
        }
        var rng = new Random(headDim * 1000 + positions);
        int kvDim = headDim * 3, offset = headDim; // a kv head in the middle of the row, as with grouped-query attention
        var q = Random(rng, headDim);
        var keys = Random(rng, positions * kvDim);
        var got = new float[positions];
        float scale = 1f / MathF.Sqrt(headDim);
        unsafe
        {
            fixed (float* pq = q, pk = keys, po = got)
            {
                AttentionDots.Scores(pq, pk + offset, kvDim, headDim, positions, scale, po);
            }
        }
        for (int p = 0; p < positions; p++)
        {
            float expected = GgmlDot.DotGgml(q, keys.AsSpan(p * kvDim + offset, headDim)) * scale;
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(got[p]));
        }
    }

    [Theory]
    [InlineData(64, 1)]
    [InlineData(64, 63)]
    [InlineData(64, 64)]
    [InlineData(64, 65)]
    [InlineData(64, 190)]
    [InlineData(24, 130)]
    [InlineData(128, 256)]
    public void Weighted_sums_equal_the_one_at_a_time_sums(int channels, int n)
    {
        if (!AttentionDots.IsSupported)
        {
            return;
        }
        var rng = new Random(channels * 1000 + n);
        int nPad = (n + 63) & ~63, stride = nPad + 64;
        // Values past n are stale garbage in the cache: they must be masked, not multiplied.
        var values = Random(rng, channels * stride, 1e3f);
        var w = Random(rng, nPad);
        for (int i = 0; i < n; i++)
        {
            w[i] = Math.Abs(w[i]);
        }
        w.AsSpan(n).Fill(0f); // the softmax of the −∞ padding
        var got = new float[channels];
        unsafe
        {
            fixed (float* pv = values, pw = w, po = got)
            {
                AttentionDots.WeightedSums(pv, stride, channels, pw, n, nPad, po);
            }
        }
        for (int c = 0; c < channels; c++)
        {
            float expected = AttentionDots.WeightedSum(values.AsSpan(c * stride, stride), w, n, nPad);
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(got[c]));
        }
    }

    [Fact]
    public void Bad_lengths_are_refused()
    {
        if (!AttentionDots.IsSupported)
        {
            return;
        }
        var a = new float[256];
        unsafe
        {
            fixed (float* p = a)
            {
                float* pp = p;
                Assert.Throws<ArgumentException>(() => AttentionDots.Scores(pp, pp, 48, 48, 2, 1f, pp));
                Assert.Throws<ArgumentException>(() => AttentionDots.WeightedSums(pp, 64, 2, pp, 70, 64, pp));
            }
        }
    }
}
