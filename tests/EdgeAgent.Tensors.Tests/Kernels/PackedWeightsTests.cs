using EdgeAgent.Tensors.Kernels;
using EdgeAgent.Tensors.Quants;
using EdgeAgent.Tensors.Threading;

namespace EdgeAgent.Tensors.Tests.Kernels;

/// <summary>Q4_0 and Q8_0 weights repacked at load (<see cref="PackedWeights"/>): the packing round-trips, and every matmul on
/// the packed copy (decode, 2- and 4-row batches and their tails, fused jobs, ranges that split a group) is
/// bit-identical to <c>VecDot</c> on the file layout.</summary>
public unsafe class PackedWeightsTests
{
    private static byte[] RandomWeights(GgmlType type, int rows, int cols, Random rng)
    {
        var traits = QuantRegistry.Get(type);
        int rowBytes = cols / 32 * traits.TypeSize;
        var weights = new byte[rows * rowBytes];
        var row = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                row[c] = ((2 * rng.NextSingle()) - 1) * (r % 5 == 0 ? 40 : 1);
            }
            traits.QuantizeReference(row, weights.AsSpan(r * rowBytes, rowBytes));
        }
        // Scales ggml never writes but a file may hold: zero, a subnormal half, a negative one.
        weights[0] = 0;
        weights[1] = 0;
        weights[rowBytes] = 0x01;
        weights[rowBytes + 1] = 0x00;
        weights[(2 * rowBytes) + 1] |= 0x80;
        if (type == GgmlType.Q8_0)
        {
            weights[(3 * rowBytes) + 2] = 0x80; // a -128 code, legal in a file though ggml never writes one
        }
        return weights;
    }

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q8_0)]
    public void PackThenUnpackGivesTheFileRowsBack(GgmlType type)
    {
        const int Rows = 12, Cols = 192;
        var weights = RandomWeights(type, Rows, Cols, new Random(5));
        int rowBytes = Cols / 32 * QuantRegistry.Get(type).TypeSize;
        var packed = new byte[LegacyPacked.PackedBytes(type, Rows, Cols)];
        Assert.Equal(weights.Length, packed.Length);
        var back = new byte[rowBytes];
        fixed (byte* src = weights)
        fixed (byte* dst = packed)
        fixed (byte* row = back)
        {
            // In two chunks, as PackedWeights reads a file.
            LegacyPacked.Pack(type, src, Rows, Cols, 0, 8, dst);
            LegacyPacked.Pack(type, src + (8 * rowBytes), Rows, Cols, 8, 12, dst);
            for (int r = 0; r < Rows; r++)
            {
                LegacyPacked.Unpack(type, dst, Rows, Cols, r, row);
                Assert.True(back.AsSpan().SequenceEqual(weights.AsSpan(r * rowBytes, rowBytes)), $"row {r}");
            }
        }
    }

    public static TheoryData<GgmlType, int, int, int> Shapes => new()
    {
        { GgmlType.Q4_0, 4, 64, 1 },
        { GgmlType.Q4_0, 36, 192, 1 },
        { GgmlType.Q4_0, 64, 256, 1 },
        { GgmlType.Q4_0, 64, 256, 2 },
        { GgmlType.Q4_0, 64, 256, 3 },
        { GgmlType.Q4_0, 64, 256, 4 },
        { GgmlType.Q4_0, 40, 128, 7 },
        { GgmlType.Q4_0, 8, 576, 9 },
        { GgmlType.Q8_0, 4, 64, 1 },
        { GgmlType.Q8_0, 36, 192, 1 },
        { GgmlType.Q8_0, 64, 256, 2 },
        { GgmlType.Q8_0, 64, 256, 5 },
        { GgmlType.Q8_0, 40, 576, 4 },
        { GgmlType.Q8_0, 8, 128, 11 },
        { GgmlType.Q4_0, 64, 256, 40 },  // split by activation rows: shares of 24 and 16
        { GgmlType.Q8_0, 36, 192, 17 },  // shares of 16 and 1
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void PackedMatMulEqualsRowDots(GgmlType type, int rows, int cols, int batch)
    {
        if (!PackedWeights.CanPack(new WeightMatrix(null, type, rows, cols)))
        {
            return; // no AVX-512 here: nothing is packed and MatMulTests covers the file layout
        }
        var rng = new Random((rows * 100) + cols + batch);
        var weights = RandomWeights(type, rows, cols, rng);
        var x = new float[batch * cols];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = ((2 * rng.NextSingle()) - 1) * (i % 7 == 0 ? 10 : 1);
        }
        using var pool = new ComputePool(2);
        var matmul = new MatMul(pool);
        using var packing = new PackedWeights();
        fixed (byte* pw = weights)
        {
            var file = new WeightMatrix(pw, type, rows, cols);
            var packed = packing.Pack(file);
            Assert.True(packed.Packed != null);
            Assert.Equal(weights.Length, packing.Bytes);
            var y = new float[batch * rows];
            var g = new float[batch * rows];
            var u = new float[batch * rows];
            matmul.Forward(packed, x, y, batch, rows);
            matmul.Forward(x, batch, packed, g, rows, file, u, rows);
            AssertRowDots(file, x, batch, y, rows);
            AssertRowDots(file, x, batch, g, rows);
            AssertRowDots(file, x, batch, u, rows);
        }
    }

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q8_0)]
    public void RowsDequantizeFromThePackedCopyAsFromTheFile(GgmlType type)
    {
        const int Rows = 8, Cols = 128;
        var weights = RandomWeights(type, Rows, Cols, new Random(3));
        using var packing = new PackedWeights();
        fixed (byte* pw = weights)
        {
            var file = new WeightMatrix(pw, type, Rows, Cols);
            var packed = packing.Pack(file);
            var a = new float[Cols];
            var b = new float[Cols];
            for (int r = 0; r < Rows; r++)
            {
                file.DequantizeRow(r, a);
                packed.DequantizeRow(r, b);
                Assert.Equal(a, b);
            }
        }
    }

    [Fact]
    public void FusedJobWhoseRangesSplitPackedGroupsEqualsRowDots()
    {
        // 13 file-layout rows before 64 packed ones: the pool's chunks (8 rows) start at odd rows of the packed job.
        const int Cols = 128, Batch = 3;
        var rng = new Random(9);
        var a = RandomWeights(GgmlType.Q4_0, 13, Cols, rng);
        var b = RandomWeights(GgmlType.Q4_0, 64, Cols, rng);
        var x = new float[Batch * Cols];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (2 * rng.NextSingle()) - 1;
        }
        using var pool = new ComputePool(2);
        var matmul = new MatMul(pool);
        using var packing = new PackedWeights();
        fixed (byte* pa = a)
        fixed (byte* pb = b)
        {
            var wa = new WeightMatrix(pa, GgmlType.Q4_0, 13, Cols);
            var wb = new WeightMatrix(pb, GgmlType.Q4_0, 64, Cols);
            var ya = new float[Batch * 13];
            var yb = new float[Batch * 64];
            matmul.Forward(x, Batch, wa, ya, 13, packing.Pack(wb), yb, 64);
            AssertRowDots(wa, x, Batch, ya, 13);
            AssertRowDots(wb, x, Batch, yb, 64);
        }
    }

    [Fact]
    public void MatricesWithoutAPackedLayoutAreReturnedAsTheyAre()
    {
        using var packing = new PackedWeights();
        var odd = new WeightMatrix(null, GgmlType.Q4_0, 6, 64);      // rows not a multiple of 4
        var k = new WeightMatrix(null, GgmlType.Q6_K, 8, 256);       // no packed Q6_K layout (Q4_K has one: Q4_KInterleavedTests)
        var narrow = new WeightMatrix(null, GgmlType.Q4_0, 8, 32);   // odd block count
        Assert.True(packing.Pack(odd).Packed == null);
        Assert.True(packing.Pack(k).Packed == null);
        Assert.True(packing.Pack(narrow).Packed == null);
        Assert.Equal(0, packing.Bytes);
        packing.Dispose();
        Assert.Throws<ObjectDisposedException>(() => packing.Pack(odd));
    }

    private static void AssertRowDots(in WeightMatrix w, float[] x, int batch, float[] y, int yStride)
    {
        var traits = QuantRegistry.Get(w.Type);
        var dotType = QuantRegistry.Get(traits.VecDotType);
        int qStride = w.Cols / dotType.BlockSize * dotType.TypeSize;
        var q = new byte[qStride];
        for (int b = 0; b < batch; b++)
        {
            dotType.Quantize(x.AsSpan(b * w.Cols, w.Cols), q);
            for (int r = 0; r < w.Rows; r++)
            {
                float expected = traits.VecDot!(w.Row(r), q, w.Cols);
                Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(y[(b * yStride) + r]));
            }
        }
    }
}
