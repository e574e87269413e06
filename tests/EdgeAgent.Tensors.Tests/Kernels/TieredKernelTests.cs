using System.Diagnostics;
using EdgeAgent.Tensors.Kernels;
using EdgeAgent.Tensors.Quants;
using EdgeAgent.Tensors.Threading;

namespace EdgeAgent.Tensors.Tests.Kernels;

/// <summary>
/// The matmul kernels stay bit-identical to the row dots once the JIT has recompiled them at Tier 1 (other tests
/// mostly run their first, Tier-0 code: an intrinsic the optimizing JIT folds differently would slip past them).
/// Each case calls the same matmul for about a second, well past the tiering threshold and delay, then checks.
/// </summary>
public unsafe class TieredKernelTests
{
    [Theory]
    [InlineData(GgmlType.Q4_0, true)]
    [InlineData(GgmlType.Q8_0, true)]
    [InlineData(GgmlType.Q4_0, false)]
    [InlineData(GgmlType.Q4_K, false)]
    [InlineData(GgmlType.Q4_K, true)]
    [InlineData(GgmlType.Q6_K, false)]
    public void OutputsEqualRowDotsAfterTierUp(GgmlType type, bool pack)
    {
        const int Rows = 64, Cols = 512;
        var traits = QuantRegistry.Get(type);
        var dotType = QuantRegistry.Get(traits.VecDotType);
        var rng = new Random(17);
        int rowBytes = Cols / traits.BlockSize * traits.TypeSize;
        var weights = new byte[Rows * rowBytes];
        var row = new float[Cols];
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < Cols; c++)
            {
                row[c] = (2 * rng.NextSingle()) - 1;
            }
            traits.QuantizeReference(row, weights.AsSpan(r * rowBytes, rowBytes));
        }
        using var pool = new ComputePool(2);
        var matmul = new MatMul(pool);
        using var packing = new PackedWeights();
        fixed (byte* pw = weights)
        {
            var file = new WeightMatrix(pw, type, Rows, Cols);
            var w = pack ? packing.Pack(file) : file;
            foreach (int batch in new[] { 1, 9 })
            {
                var x = new float[batch * Cols];
                for (int i = 0; i < x.Length; i++)
                {
                    x[i] = (2 * rng.NextSingle()) - 1;
                }
                var y = new float[batch * Rows];
                var clock = Stopwatch.StartNew();
                while (clock.ElapsedMilliseconds < 600)
                {
                    matmul.Forward(w, x, y, batch, Rows);
                }
                int qStride = Cols / dotType.BlockSize * dotType.TypeSize;
                var q = new byte[qStride];
                for (int b = 0; b < batch; b++)
                {
                    dotType.Quantize(x.AsSpan(b * Cols, Cols), q);
                    for (int r = 0; r < Rows; r++)
                    {
                        float expected = traits.VecDot!(file.Row(r), q, Cols);
                        Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(y[(b * Rows) + r]));
                    }
                }
            }
        }
    }
}
