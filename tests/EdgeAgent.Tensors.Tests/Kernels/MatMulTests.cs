using System.Runtime.InteropServices;
using EdgeAgent.Tensors.Kernels;
using EdgeAgent.Tensors.Quants;
using EdgeAgent.Tensors.Threading;

namespace EdgeAgent.Tensors.Tests.Kernels;

/// <summary>Every matmul path (row dots, the AVX-512 tiles, fused jobs) gives each output bit-identical to one
/// <c>VecDot</c> of the weight row with the quantized activation row.</summary>
public unsafe class MatMulTests
{
    public static TheoryData<GgmlType, int, int, int> Shapes => new()
    {
        { GgmlType.Q4_0, 13, 128, 1 },
        { GgmlType.Q4_0, 37, 192, 5 },
        { GgmlType.Q4_0, 64, 256, 4 },
        { GgmlType.Q8_0, 13, 128, 1 },
        { GgmlType.Q8_0, 37, 192, 3 },
        { GgmlType.Q8_0, 21, 128, 11 },
        { GgmlType.Q4_0, 22, 64, 9 },
        { GgmlType.Q8_0, 8, 64, 2 },
        { GgmlType.Q4_0, 9, 96, 2 },   // odd block count: the row-dot path
        { GgmlType.Q4_K, 10, 256, 3 },
        { GgmlType.Q4_K, 10, 512, 9 },
        { GgmlType.Q5_K, 5, 256, 4 },
        { GgmlType.Q3_K, 5, 256, 5 },
        { GgmlType.Q2_K, 5, 256, 4 },
        { GgmlType.Q6_K, 7, 512, 2 },
        { GgmlType.Q6_K, 7, 256, 6 },
        { GgmlType.Q6_K, 5, 256, 12 },  // 8-row tile, then 4
        { GgmlType.Q5_K, 3, 512, 8 },
        { GgmlType.Q2_K, 3, 256, 11 },
        { GgmlType.Q3_K, 2, 256, 9 },
        // Batches of 16 and more with small weights split by activation rows (MatMul.SplitByTokens): a share of 24
        // and one of 16 (or 1, 9), each quantized by the thread that multiplies it.
        { GgmlType.Q4_0, 37, 192, 40 },
        { GgmlType.Q8_0, 21, 128, 17 },
        { GgmlType.Q4_K, 10, 512, 33 },
        { GgmlType.Q6_K, 7, 256, 20 },
        { GgmlType.Q5_K, 5, 256, 24 },
        { GgmlType.F16, 9, 64, 18 },
    };

    /// <summary>Q4_0's 4 × 4 tile sums a block's <c>Σ u·y</c> (nibbles 0-15) in wrapping 16-bit arithmetic before
    /// subtracting <c>8·Σ y</c>: with every nibble 15 and every activation ±127 the sum (±60,960) wraps, the result
    /// (±28,448 per block) must not.</summary>
    [Fact]
    public void Q4_0_tiles_are_exact_where_the_block_sums_wrap()
    {
        const int rows = 8, cols = 256, batch = 8;
        var traits = QuantRegistry.Get(GgmlType.Q4_0);
        var dotType = QuantRegistry.Get(traits.VecDotType);
        int rowBytes = cols / 32 * BlockQ4_0.Bytes;
        var weights = new byte[rows * rowBytes];
        for (int blk = 0; blk < rows * cols / 32; blk++)
        {
            int at = blk * BlockQ4_0.Bytes;
            weights[at] = 0x00;
            weights[at + 1] = 0x3C; // d = 1.0
            weights.AsSpan(at + 2, 16).Fill((blk & 3) == 3 ? (byte)0x00 : (byte)0xFF); // nibbles 15 (some blocks 0)
        }
        var x = new float[batch * cols];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (i / cols % 2 == 0) ? 1f : -1f; // Q8_0 codes ±127
        }
        var (q, qStride) = QuantizedRows(dotType, x, cols, batch);
        using var pool = new ComputePool(2);
        var matmul = new MatMul(pool);
        fixed (byte* pw = weights)
        {
            var w = new WeightMatrix(pw, GgmlType.Q4_0, rows, cols);
            var y = new float[batch * rows];
            matmul.Forward(w, x, y, batch, rows);
            for (int b = 0; b < batch; b++)
            {
                for (int r = 0; r < rows; r++)
                {
                    float expected = traits.VecDot!(w.Row(r), q.AsSpan(b * qStride, qStride), cols);
                    Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(y[(b * rows) + r]));
                }
            }
        }
    }

    /// <summary>Each activation row quantized to the weights' dot type, as the row dots read them.</summary>
    private static (byte[] Q, int Stride) QuantizedRows(QuantTraits dotType, float[] x, int cols, int batch)
    {
        int qStride = cols / dotType.BlockSize * dotType.TypeSize;
        var q = new byte[batch * qStride];
        for (int b = 0; b < batch; b++)
        {
            dotType.Quantize(x.AsSpan(b * cols, cols), q.AsSpan(b * qStride, qStride));
        }
        return (q, qStride);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void OutputsEqualRowDots(GgmlType type, int rows, int cols, int batch)
    {
        var traits = QuantRegistry.Get(type);
        var dotType = QuantRegistry.Get(traits.VecDotType);
        var rng = new Random(rows * 1000 + cols + batch);
        int rowBytes = cols / traits.BlockSize * traits.TypeSize;
        var weights = new byte[rows * rowBytes];
        var row = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                row[c] = (2 * rng.NextSingle()) - 1;
            }
            traits.QuantizeReference(row, weights.AsSpan(r * rowBytes, rowBytes));
        }
        if (type == GgmlType.Q8_0)
        {
            weights[2] = 0x80; // a -128 code, legal in a file though ggml never writes one
        }
        var x = new float[batch * cols];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = ((2 * rng.NextSingle()) - 1) * (i % 7 == 0 ? 10 : 1);
        }
        var (q, qStride) = QuantizedRows(dotType, x, cols, batch);
        using var pool = new ComputePool(2);
        var matmul = new MatMul(pool);
        fixed (byte* pw = weights)
        {
            var w = new WeightMatrix(pw, type, rows, cols);
            var y = new float[batch * (rows + 3)];
            matmul.Forward(w, x, y, batch, rows + 3);
            var g = new float[batch * rows];
            var u = new float[batch * rows];
            matmul.Forward(x, batch, w, g, rows, w, u, rows);
            for (int b = 0; b < batch; b++)
            {
                for (int r = 0; r < rows; r++)
                {
                    float expected = traits.VecDot!(w.Row(r), q.AsSpan(b * qStride, qStride), cols);
                    Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(y[(b * (rows + 3)) + r]));
                    Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(g[(b * rows) + r]));
                    Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(u[(b * rows) + r]));
                }
            }
        }
    }
}
