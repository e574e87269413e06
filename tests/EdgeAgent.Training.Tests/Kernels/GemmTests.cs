using EdgeAgent.Tensors.Threading;
using EdgeAgent.Training.Kernels;

namespace EdgeAgent.Training.Tests.Kernels;

public sealed class GemmTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 5, 7)]
    [InlineData(17, 13, 9)]
    [InlineData(33, 130, 257)]     // tile and panel remainders in every dimension
    [InlineData(64, 256, 600)]
    public void FloatKernelMatchesDoubleReference(int m, int n, int k)
    {
        var a = GradCheck.Random(m * k, 1).Select(x => (float)x).ToArray();
        var b = GradCheck.Random(n * k, 2).Select(x => (float)x).ToArray();
        var c0 = GradCheck.Random(m * n, 3).Select(x => (float)x).ToArray();
        using var pool = new ComputePool(2);
        var gemm = new Gemm(pool);
        foreach (bool accumulate in new[] { false, true })
        {
            var c = (float[])c0.Clone();
            gemm.ABt<float>(a, k, b, k, c, n, m, n, k, accumulate);
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double s = accumulate ? c0[i * n + j] : 0;
                    for (int p = 0; p < k; p++)
                    {
                        s += (double)a[i * k + p] * b[j * k + p];
                    }
                    Assert.True(Math.Abs(s - c[i * n + j]) <= 1e-5 * Math.Sqrt(k) + 1e-6 * Math.Abs(s), $"C[{i},{j}] = {c[i * n + j]}, expected {s}");
                }
            }
        }
    }

    [Fact]
    public void ResultsAreBitIdenticalForAnyThreadCount()
    {
        const int m = 70, n = 300, k = 520;
        var a = GradCheck.Random(m * k, 4).Select(x => (float)x).ToArray();
        var b = GradCheck.Random(n * k, 5).Select(x => (float)x).ToArray();
        float[] Run(int threads)
        {
            using var pool = new ComputePool(threads);
            var c = new float[m * n];
            new Gemm(pool).ABt<float>(a, k, b, k, c, n, m, n, k, accumulate: false);
            return c;
        }
        var one = Run(1);
        Assert.Equal(one, Run(2));
        Assert.Equal(one, Run(3));
    }

    [Fact]
    public void TransposeWithStridesAndOffset()
    {
        using var pool = new ComputePool(2);
        var gemm = new Gemm(pool);
        const int rows = 37, cols = 45, lds = 50, off = 3;
        var src = Enumerable.Range(0, off + rows * lds).Select(i => (float)i).ToArray();
        var dst = new float[cols * rows];
        gemm.Transpose(src, lds, dst, rows, rows, cols, off);
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                Assert.Equal(src[off + i * lds + j], dst[j * rows + i]);
            }
        }
    }
}
