using EdgeAgent.Tensors.Kernels;
using Xunit.Abstractions;

namespace EdgeAgent.Tensors.Tests.Kernels;

public class GgmlActivationAgreementTests(ITestOutputHelper output)
{
    private static float[] Random(int n, int seed, float scale)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((r.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    [Fact]
    public void SwiGluEqualsGgmlBitForBit()
    {
        Assert.True(GgmlActivationOracle.Available, "needs an AVX-512 CPU to run llama.cpp's AVX-512 ggml build");
        int mismatches = 0, total = 0;
        foreach (int n in new[] { 16, 17, 31, 64, 100, 512 })
        {
            for (int seed = 0; seed < 20; seed++)
            {
                var x = Random(n, seed, 8f);
                var g = Random(n, seed + 1000, 3f);
                var expected = new float[n];
                GgmlActivationOracle.SwiGlu(x, g, expected);
                var ours = (float[])x.Clone();
                SwiGlu.Apply(ours, g);
                for (int i = 0; i < n; i++, total++)
                {
                    if (BitConverter.SingleToInt32Bits(ours[i]) != BitConverter.SingleToInt32Bits(expected[i]))
                    {
                        if (mismatches++ < 5)
                        {
                            output.WriteLine($"n={n} i={i} x={x[i]:R} ours={ours[i]:R} ggml={expected[i]:R}");
                        }
                    }
                }
            }
        }
        Assert.True(mismatches == 0, $"{mismatches} of {total} SwiGLU values differ from ggml");
    }

    [Fact]
    public void SoftmaxEqualsGgmlBitForBit()
    {
        Assert.True(GgmlActivationOracle.Available, "needs an AVX-512 CPU to run llama.cpp's AVX-512 ggml build");
        int mismatches = 0;
        foreach (int n in new[] { 16, 32, 48, 256 })
        {
            for (int seed = 0; seed < 20; seed++)
            {
                var x = Random(n, seed, 6f);
                for (int i = n - 5; i < n; i++)
                {
                    x[i] = float.NegativeInfinity; // masked positions
                }
                float max = x.Max();
                var y = new float[n];
                double sum = GgmlActivationOracle.SoftMax(x, y, max);
                float inv = (float)(1.0 / sum);
                for (int i = 0; i < n; i++)
                {
                    y[i] *= inv;
                }
                var ours = (float[])x.Clone();
                Softmax.InPlace(ours);
                for (int i = 0; i < n; i++)
                {
                    if (BitConverter.SingleToInt32Bits(ours[i]) != BitConverter.SingleToInt32Bits(y[i]) && mismatches++ < 5)
                    {
                        output.WriteLine($"n={n} i={i} ours={ours[i]:R} ggml={y[i]:R}");
                    }
                }
            }
        }
        Assert.Equal(0, mismatches);
    }

    [Fact]
    public void DotEqualsGgmlVecDotBitForBit()
    {
        Assert.True(GgmlActivationOracle.Available, "needs an AVX-512 CPU to run llama.cpp's AVX-512 ggml build");
        int mismatches = 0;
        foreach (int n in new[] { 8, 64, 100, 128, 200, 256 })
        {
            for (int seed = 0; seed < 20; seed++)
            {
                var a = Random(n, seed, 2f);
                var b = Random(n, seed + 7, 2f);
                float expected = GgmlActivationOracle.Dot(a, b);
                float ours = GgmlDot.DotGgml(a, b);
                if (BitConverter.SingleToInt32Bits(ours) != BitConverter.SingleToInt32Bits(expected) && mismatches++ < 5)
                {
                    output.WriteLine($"n={n} ours={ours:R} ggml={expected:R}");
                }
            }
        }
        Assert.Equal(0, mismatches);
    }

    [Theory]
    [InlineData("quantize_row_q8_0", EdgeAgent.Tensors.Quants.GgmlType.Q8_0)]
    [InlineData("quantize_row_q8_1", EdgeAgent.Tensors.Quants.GgmlType.Q8_1)]
    public void ActivationQuantizerEqualsTheCpuBackends(string function, EdgeAgent.Tensors.Quants.GgmlType type)
    {
        Assert.True(GgmlActivationOracle.Available, "needs an AVX-512 CPU to run llama.cpp's AVX-512 ggml build");
        var traits = EdgeAgent.Tensors.Quants.QuantRegistry.Get(type);
        int mismatches = 0;
        for (int seed = 0; seed < 200; seed++)
        {
            var x = Random(256, seed, seed % 2 == 0 ? 3f : 0.01f);
            if (seed % 4 == 1)
            {
                // Exact ties: amax 127/8 makes 127/amax exactly 8, and (k + 0.5)/8 scales to k + 0.5.
                var r = new Random(seed);
                for (int j = 0; j < x.Length; j++)
                {
                    x[j] = j % 32 == 0 ? 127f / 8 : (r.Next(-126, 126) + 0.5f) / 8;
                }
            }
            var expected = new byte[256 / 32 * traits.TypeSize];
            var ours = new byte[expected.Length];
            GgmlActivationOracle.QuantizeRow(function, x, expected);
            traits.Quantize(x, ours);
            if (!expected.AsSpan().SequenceEqual(ours) && mismatches++ < 3)
            {
                int i = 0;
                while (expected[i] == ours[i])
                {
                    i++;
                }
                output.WriteLine($"seed {seed}: first differing byte {i} (block {i / traits.TypeSize}, offset {i % traits.TypeSize}): ours {ours[i]} ggml {expected[i]}");
            }
        }
        Assert.Equal(0, mismatches);
    }
}
