using EdgeAgent.Tensors.Kernels;
using EdgeAgent.Tensors.Quants;
using EdgeAgent.Tensors.Threading;
using static EdgeAgent.Tensors.Tests.Quants.KQuantTestData;

namespace EdgeAgent.Tensors.Tests.Quants;

/// <summary>Q4_K repacked with its sub-blocks interleaved (<see cref="Q4_KInterleaved"/>): the layout round-trips, and
/// every product on it (row dot, 4- and 8-row tiles, the matmul with fused jobs and odd batches) is bit-identical to
/// the AVX-512 row dot on the file layout.</summary>
public unsafe class Q4_KInterleavedTests
{
    private static bool Runs => KQuantDot.Best == KIsa.Avx512;

    private static byte[] Weights(int rows, int cols, int seed)
    {
        var w = new byte[rows * (cols / QK * Q4K.BlockBytes)];
        var rng = new Random(seed);
        var row = new float[cols];
        int rowBytes = cols / QK * Q4K.BlockBytes;
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                row[c] = ((2 * rng.NextSingle()) - 1) * (r % 3 == 0 ? 30 : 1);
            }
            Q4K.QuantizeReference(row, w.AsSpan(r * rowBytes, rowBytes));
        }
        return w;
    }

    private static byte[] Activations(int batch, int cols, int seed)
    {
        var rng = new Random(seed);
        var x = new float[batch * cols];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = ((2 * rng.NextSingle()) - 1) * (i % 97 == 0 ? 50 : 1);
        }
        return QuantizeQ8K(x);
    }

    private static byte[] Interleave(byte[] w)
    {
        var packed = new byte[w.Length];
        fixed (byte* src = w)
        fixed (byte* dst = packed)
        {
            Q4_KInterleaved.Pack(src, dst, w.Length / Q4K.BlockBytes);
        }
        return packed;
    }

    private static byte[] Permute(byte[] q8)
    {
        var permuted = new byte[q8.Length];
        fixed (byte* src = q8)
        fixed (byte* dst = permuted)
        {
            Q4_KInterleaved.PermuteActivation(src, dst, q8.Length / 292);
        }
        return permuted;
    }

    [Fact]
    public void Pack_then_unpack_gives_the_file_blocks_back()
    {
        var w = Weights(3, 4 * QK, 1);
        var packed = Interleave(w);
        Assert.False(packed.AsSpan().SequenceEqual(w)); // the levels did move
        var back = new byte[w.Length];
        fixed (byte* src = packed)
        fixed (byte* dst = back)
        {
            Q4_KInterleaved.Unpack(src, dst, w.Length / Q4K.BlockBytes);
        }
        Assert.Equal(w, back);
    }

    [Fact]
    public void Permuting_an_activation_keeps_its_scale_and_group_sums_and_moves_every_level_once()
    {
        var q8 = Activations(1, 2 * QK, 2);
        var p = Permute(q8);
        Assert.Equal(q8.AsSpan(0, 4).ToArray(), p.AsSpan(0, 4).ToArray());
        Assert.Equal(q8.AsSpan(260, 32).ToArray(), p.AsSpan(260, 32).ToArray());
        Assert.Equal(q8.AsSpan(4, 256).ToArray().Order(), p.AsSpan(4, 256).ToArray().Order());
        // Step 1, lane 8 (sub-block 1, its ninth element) is element 32 + 8 = 40.
        Assert.Equal(q8[4 + 40], p[4 + 64 + 8]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(11)]
    public void Row_and_tile_dots_are_bit_identical_to_the_file_layout_row_dot(int nb)
    {
        if (!Runs)
        {
            return;
        }
        int cols = nb * QK;
        var w = Weights(2, cols, 10 + nb);
        var q8 = Activations(8, cols, 20 + nb);
        var packed = Interleave(w);
        var permuted = Permute(q8);
        int rowBytes = nb * Q4K.BlockBytes, qStride = nb * 292;
        float* eight = stackalloc float[8];
        float* four = stackalloc float[4];
        fixed (byte* pw = w)
        fixed (byte* pq = q8)
        fixed (byte* ip = packed)
        fixed (byte* iq = permuted)
        {
            for (int r = 0; r < 2; r++)
            {
                Q4_KInterleaved.Dot8(ip + (r * rowBytes), iq, qStride, nb, eight);
                Q4_KInterleaved.Dot4(ip + (r * rowBytes), iq + (2 * qStride), qStride, nb, four);
                for (int b = 0; b < 8; b++)
                {
                    float expected = KQuantDot.Dot512<Q4_KKernel>(pw + (r * rowBytes), pq + (b * qStride), nb);
                    Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(Q4_KInterleaved.Dot(ip + (r * rowBytes), iq + (b * qStride), nb)));
                    Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(eight[b]));
                    if (b is >= 2 and < 6)
                    {
                        Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(four[b - 2]));
                    }
                }
            }
        }
    }

    [Fact]
    public void Largest_levels_against_the_largest_activations_do_not_overflow_the_int16_sums()
    {
        if (!Runs)
        {
            return;
        }
        var w = Weights(1, QK, 3);
        w.AsSpan(4, 12).Fill(0xFF); // every scale and min 63
        w.AsSpan(16, 128).Fill(0xFF); // every level 15
        var q8 = Activations(2, QK, 4);
        q8.AsSpan(4, 256).Fill(0x80); // -128 everywhere in row 0
        q8.AsSpan(292 + 4, 256).Fill(0x7F); // +127 everywhere in row 1
        var packed = Interleave(w);
        var permuted = Permute(q8);
        fixed (byte* pw = w)
        fixed (byte* pq = q8)
        fixed (byte* ip = packed)
        fixed (byte* iq = permuted)
        {
            for (int b = 0; b < 2; b++)
            {
                float expected = KQuantDot.Dot512<Q4_KKernel>(pw, pq + (b * 292), 1);
                Assert.Equal(expected, Q4_KInterleaved.Dot(ip, iq + (b * 292), 1));
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(13)]
    [InlineData(40)] // split by activation rows
    public void The_matmul_on_an_interleaved_copy_equals_the_file_layout_with_fused_jobs(int batch)
    {
        if (!Runs)
        {
            return;
        }
        const int Rows = 37, Cols = 3 * QK;
        var wq = Weights(Rows, Cols, 7);
        var wk = Weights(Rows - 5, Cols, 8);
        var rng = new Random(9);
        var x = new float[batch * Cols];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (2 * rng.NextSingle()) - 1;
        }
        using var pool = new ComputePool(2);
        var mm = new MatMul(pool);
        using var packing = new PackedWeights();
        fixed (byte* pq = wq)
        fixed (byte* pk = wk)
        {
            var q = new WeightMatrix(pq, GgmlType.Q4_K, Rows, Cols);
            var k = new WeightMatrix(pk, GgmlType.Q4_K, Rows - 5, Cols);
            var qi = packing.Pack(q);
            var ki = packing.Pack(k);
            Assert.True(qi.Packed != null && ki.Packed != null);
            var expectedQ = new float[batch * Rows];
            var expectedK = new float[batch * Rows];
            mm.Forward(q, x, expectedQ, batch, Rows);
            mm.Forward(k, x, expectedK, batch, Rows);
            var actualQ = new float[batch * Rows];
            var actualK = new float[batch * Rows];
            // Fused (one quantization, one dispatch) with a file-layout Q4_K third matrix sharing the activations.
            var third = new float[batch * Rows];
            mm.Forward(x, batch, qi, actualQ, Rows, ki, actualK, Rows, q, third, Rows);
            Assert.Equal(expectedQ, actualQ);
            Assert.Equal(expectedK, actualK);
            Assert.Equal(expectedQ, third);
            // Dequantizing a row of the interleaved copy reads the file's values.
            var fromPacked = new float[Cols];
            var fromFile = new float[Cols];
            qi.DequantizeRow(4, fromPacked);
            q.DequantizeRow(4, fromFile);
            Assert.Equal(fromFile, fromPacked);
        }
    }
}
