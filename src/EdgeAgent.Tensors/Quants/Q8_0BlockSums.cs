using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// Q8_0 × Q8_0 on AVX-512 with whole-block integer sums, as <see cref="Q4_0BlockSums"/> does for Q4_0: the two
/// <c>vpmaddwd</c> of a pair (bytes 0..15 and 16..31 of both blocks, widened) give int32 lanes of four products each;
/// a tree of in-lane unpacks and 32-bit adds over a tile's results ends with whole block sums, converted once and
/// fused-multiply-added with <c>d_x·d_y</c> into an even- and an odd-block accumulator per output (<c>even + odd</c>).
/// The multiply pipes see the two <c>vpmaddwd</c> per 64 products and a conversion, multiply and FMA per 16 block
/// sums instead of per 64 products. <see cref="LegacyBlockDot.BlockSumDot{T}"/> is the row dot with the same
/// arithmetic; every tile gives bit for bit what it gives; <see cref="BlockSumGemm"/> drives the tiles.
/// </summary>
internal static unsafe class Q8_0BlockSums
{
    /// <summary>A weight row's pair (two widened operands) against a prepared activation pair: int32 lanes of four
    /// products, lanes 0..7 block 0, 8..15 block 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> M(Vector512<byte> a, Vector512<byte> b, byte* prepared) =>
        Avx512BW.MultiplyAddAdjacent(a.AsInt16(), Vector512.Load((short*)prepared)) + Avx512BW.MultiplyAddAdjacent(b.AsInt16(), Vector512.Load((short*)(prepared + 64)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> M(Vector512<byte> a, Vector512<byte> b, Vector512<short> first, Vector512<short> second) =>
        Avx512BW.MultiplyAddAdjacent(a.AsInt16(), first) + Avx512BW.MultiplyAddAdjacent(b.AsInt16(), second);

    // The tree: H32 interleaves two vectors' dwords within each 128-bit lane and adds, H64 does the same with quad
    // words; after H32, H32, H64 over four vectors, dword j of a lane is the sum of vector j's four dwords there.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> H32(Vector512<int> x, Vector512<int> y) => Avx512F.UnpackLow(x, y) + Avx512F.UnpackHigh(x, y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> H64(Vector512<int> x, Vector512<int> y) =>
        Avx512F.UnpackLow(x.AsInt64(), y.AsInt64()).AsInt32() + Avx512F.UnpackHigh(x.AsInt64(), y.AsInt64()).AsInt32();

    /// <summary>Four vectors' sums per lane: dword j of each 128-bit lane is vector j's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Tree(Vector512<int> v0, Vector512<int> v1, Vector512<int> v2, Vector512<int> v3) =>
        H64(H32(v0, v1), H32(v2, v3));

    /// <summary>Lanes 0+1 (block 0) and 2+3 (block 1) of two reduced vectors: [r block 0 | r block 1 | s block 0 | s block 1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Blocks(Vector512<int> r, Vector512<int> s) =>
        Avx512F.Shuffle4x128(r, s, 0b10_00_10_00) + Avx512F.Shuffle4x128(r, s, 0b11_01_11_01);

    /// <summary>4 weight rows × 4 activation rows.</summary>
    internal static void Tile4x4<TRows>(byte* src, nint rowBytes, byte* sc, int pairs, byte* p, nint prepStride, float* y, int yStride)
        where TRows : struct, IQ8_0Rows
    {
        byte* q0 = p, q1 = p + prepStride, q2 = q1 + prepStride, q3 = q2 + prepStride;
        Vector512<float> e0 = default, e1 = default;
        for (int i = 0; i < pairs; i++)
        {
            nint off = i * LegacyGemm.PairBytes;
            byte* p0 = q0 + off, p1 = q1 + off, p2 = q2 + off, p3 = q3 + off;
            TRows.Load(src, rowBytes, i, 0, out var a, out var b, out var c, out var d);
            var t0 = Tree(M(a, b, p0), M(a, b, p1), M(a, b, p2), M(a, b, p3));
            var t1 = Tree(M(c, d, p0), M(c, d, p1), M(c, d, p2), M(c, d, p3));
            TRows.Load(src, rowBytes, i, 2, out a, out b, out c, out d);
            var t2 = Tree(M(a, b, p0), M(a, b, p1), M(a, b, p2), M(a, b, p3));
            var t3 = Tree(M(c, d, p0), M(c, d, p1), M(c, d, p2), M(c, d, p3));
            // Lane j of Blocks(t0, t1): row j / 8, activation j % 4, block (j / 4) % 2; rows 2-3 likewise.
            Vector512<float> dw = TRows.Scales(src, rowBytes, sc, i);
            var g = Vector256.Create(BlockSumGemm.ActScales(q0, pairs, i), BlockSumGemm.ActScales(q1, pairs, i), BlockSumGemm.ActScales(q2, pairs, i), BlockSumGemm.ActScales(q3, pairs, i)).AsSingle().ToVector512Unsafe();
            var dx = Avx512F.PermuteVar16x32(g, Vector512.Create(0, 2, 4, 6, 1, 3, 5, 7, 0, 2, 4, 6, 1, 3, 5, 7));
            var w0 = Avx512F.PermuteVar16x32(dw, Vector512.Create(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
            var w1 = Avx512F.PermuteVar16x32(dw, Vector512.Create(4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7));
            e0 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Blocks(t0, t1)), w0 * dx, e0);
            e1 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Blocks(t2, t3)), w1 * dx, e1);
        }
        for (int j = 0; j < 4; j++)
        {
            float* ya = y + ((long)j * yStride);
            ya[0] = e0.GetElement(j) + e0.GetElement(4 + j);
            ya[1] = e0.GetElement(8 + j) + e0.GetElement(12 + j);
            ya[2] = e1.GetElement(j) + e1.GetElement(4 + j);
            ya[3] = e1.GetElement(8 + j) + e1.GetElement(12 + j);
        }
    }

    /// <summary>4 weight rows × 2 activation rows.</summary>
    internal static void Tile4x2<TRows>(byte* src, nint rowBytes, byte* sc, int pairs, byte* p, nint prepStride, float* y, int yStride)
        where TRows : struct, IQ8_0Rows
    {
        byte* q0 = p, q1 = p + prepStride;
        Vector512<float> e = default;
        for (int i = 0; i < pairs; i++)
        {
            nint off = i * LegacyGemm.PairBytes;
            byte* p0 = q0 + off, p1 = q1 + off;
            TRows.Load(src, rowBytes, i, 0, out var a, out var b, out var c, out var d);
            // Dword j of a lane: j = 2·row + activation (rows 0-1 in t0, 2-3 in t1).
            var t0 = Tree(M(a, b, p0), M(a, b, p1), M(c, d, p0), M(c, d, p1));
            TRows.Load(src, rowBytes, i, 2, out a, out b, out c, out d);
            var t1 = Tree(M(a, b, p0), M(a, b, p1), M(c, d, p0), M(c, d, p1));
            // Lane j of Blocks(t0, t1): k = 4·(j / 8) + j % 4 (k = 2·row + activation), block (j / 4) % 2.
            Vector512<float> dw = TRows.Scales(src, rowBytes, sc, i);
            var g = Vector128.Create(BlockSumGemm.ActScales(q0, pairs, i), BlockSumGemm.ActScales(q1, pairs, i)).AsSingle().ToVector256Unsafe().ToVector512Unsafe();
            var dx = Avx512F.PermuteVar16x32(g, Vector512.Create(0, 2, 0, 2, 1, 3, 1, 3, 0, 2, 0, 2, 1, 3, 1, 3));
            var w = Avx512F.PermuteVar16x32(dw, Vector512.Create(0, 0, 2, 2, 1, 1, 3, 3, 4, 4, 6, 6, 5, 5, 7, 7));
            e = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Blocks(t0, t1)), w * dx, e);
        }
        for (int j = 0; j < 4; j++)
        {
            int row = j >> 1, a = j & 1;
            y[((long)a * yStride) + row] = e.GetElement(j) + e.GetElement(4 + j);
            y[((long)a * yStride) + row + 2] = e.GetElement(8 + j) + e.GetElement(12 + j);
        }
    }

    /// <summary>Decode: 4 weight rows × 1 activation row, two pairs a step (one tree for both); pair i + 1's sums are
    /// added into pair i's lanes after pair i's, so each lane adds its pairs in order, as the row dot does.</summary>
    internal static void Tile4x1<TRows>(byte* src, nint rowBytes, byte* sc, int pairs, byte* p, float* y)
        where TRows : struct, IQ8_0Rows
    {
        // Lanes 0-3: rows 0-3, even blocks; lanes 4-7: odd blocks (lanes 8-15 stay 0).
        Vector512<float> e = default;
        byte* ys = LegacyGemm.DecodeScales(p, pairs);
        var kept = Vector512.Create(-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0).AsSingle();
        var second = Vector512.Create(8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
        int i = 0;
        for (; i + 2 <= pairs; i += 2)
        {
            byte* pi = p + (i * LegacyGemm.PairBytes);
            TRows.Prefetch(src, rowBytes, i);
            var f0 = Vector512.Load((short*)pi);
            var s0 = Vector512.Load((short*)(pi + 64));
            TRows.Load(src, rowBytes, i, 0, out var a, out var b, out var c, out var d);
            TRows.Load(src, rowBytes, i, 2, out var a2, out var b2, out var c2, out var d2);
            var tv = Tree(M(a, b, f0, s0), M(c, d, f0, s0), M(a2, b2, f0, s0), M(c2, d2, f0, s0));
            var f1 = Vector512.Load((short*)(pi + LegacyGemm.PairBytes));
            var s1 = Vector512.Load((short*)(pi + LegacyGemm.PairBytes + 64));
            TRows.Load(src, rowBytes, i + 1, 0, out a, out b, out c, out d);
            TRows.Load(src, rowBytes, i + 1, 2, out a2, out b2, out c2, out d2);
            var tw = Tree(M(a, b, f1, s1), M(c, d, f1, s1), M(a2, b2, f1, s1), M(c2, d2, f1, s1));
            // Lane j of Blocks(tv, tw): row j % 4, block (j / 4) % 2, pair i (j < 8) or i + 1.
            var x = Vector512.ConvertToSingle(Blocks(tv, tw));
            var w = Avx512F.PermuteVar16x32(TRows.Scales2(src, rowBytes, sc, i), Vector512.Create(0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15));
            var dx = Avx512F.PermuteVar16x32(Vector128.Load((float*)(ys + (i * 8))).ToVector256Unsafe().ToVector512Unsafe(), Vector512.Create(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
            var m = w * dx;
            e = Vector512.ConditionalSelect(kept, Vector512.FusedMultiplyAdd(x, m, e), e);
            e = Vector512.ConditionalSelect(kept, Vector512.FusedMultiplyAdd(Avx512F.PermuteVar16x32(x, second), Avx512F.PermuteVar16x32(m, second), e), e);
        }
        if (i < pairs)
        {
            byte* pi = p + (i * LegacyGemm.PairBytes);
            var f0 = Vector512.Load((short*)pi);
            var s0 = Vector512.Load((short*)(pi + 64));
            TRows.Load(src, rowBytes, i, 0, out var a, out var b, out var c, out var d);
            TRows.Load(src, rowBytes, i, 2, out var a2, out var b2, out var c2, out var d2);
            var t = Tree(M(a, b, f0, s0), M(c, d, f0, s0), M(a2, b2, f0, s0), M(c2, d2, f0, s0));
            var x = Vector512.ConvertToSingle(Blocks(t, t));
            var w = Avx512F.PermuteVar16x32(TRows.Scales(src, rowBytes, sc, i), Vector512.Create(0, 2, 4, 6, 1, 3, 5, 7, 0, 2, 4, 6, 1, 3, 5, 7));
            var dx = Avx512F.PermuteVar16x32(Vector128.CreateScalar(BlockSumGemm.ActScales(p, pairs, i)).AsSingle().ToVector256Unsafe().ToVector512Unsafe(), Vector512.Create(0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1));
            e = Vector512.ConditionalSelect(kept, Vector512.FusedMultiplyAdd(x, w * dx, e), e);
        }
        for (int r = 0; r < 4; r++)
        {
            y[r] = e.GetElement(r) + e.GetElement(4 + r);
        }
    }

    /// <summary>One row in the file's layout against one prepared activation row (rows left over from the 4-row tiles).</summary>
    internal static float Tile1(byte* x, int pairs, byte* p)
    {
        float even = 0, odd = 0;
        float* ys = (float*)LegacyGemm.DecodeScales(p, pairs);
        for (int i = 0; i < pairs; i++)
        {
            byte* x0 = x + (i * 2 * BlockQ8_0.Bytes);
            Q8_0Gemm.Load(x0, out var a, out var b);
            Vector512<int> s = M(a, b, p + (i * LegacyGemm.PairBytes));
            float d0 = Fp16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(x0)), d1 = Fp16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(x0 + BlockQ8_0.Bytes));
            even = MathF.FusedMultiplyAdd(Vector256.Sum(s.GetLower()), d0 * ys[2 * i], even);
            odd = MathF.FusedMultiplyAdd(Vector256.Sum(s.GetUpper()), d1 * ys[(2 * i) + 1], odd);
        }
        return even + odd;
    }
}

/// <summary>Where four Q8_0 rows' block pairs come from: the packed runs or the file's blocks.</summary>
internal unsafe interface IQ8_0Rows
{
    /// <summary>Rows <paramref name="k"/> and k + 1 (k = 0 or 2) of pair <paramref name="i"/>, each as two widened
    /// operands (<see cref="Q8_0Gemm.Load"/>).</summary>
    static abstract void Load(byte* src, nint rowBytes, int i, int k, out Vector512<byte> a0, out Vector512<byte> b0, out Vector512<byte> a1, out Vector512<byte> b1);

    /// <summary>Lanes 0..7: d(row 0, block 0), d(row 0, block 1), d(row 1, block 0), … d(row 3, block 1).</summary>
    static abstract Vector512<float> Scales(byte* src, nint rowBytes, byte* sc, int i);

    /// <summary>Pairs <paramref name="i"/> and i + 1: lanes 0..7 as <see cref="Scales"/> for pair i, lanes 8..15 for pair i + 1.</summary>
    static abstract Vector512<float> Scales2(byte* src, nint rowBytes, byte* sc, int i);

    /// <summary>Decode's look-ahead into the rows (nothing where the layout streams by itself).</summary>
    static abstract void Prefetch(byte* src, nint rowBytes, int i);
}

internal readonly unsafe struct PackedRows8 : IQ8_0Rows
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(byte* src, nint rowBytes, int i, int k, out Vector512<byte> a0, out Vector512<byte> b0, out Vector512<byte> a1, out Vector512<byte> b1) =>
        Q8_0Packing.Load2(src + (i * Q8_0Packing.RowBytes * LegacyPacked.GroupRows) + (k * Q8_0Packing.RowBytes), out a0, out b0, out a1, out b1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Scales(byte* src, nint rowBytes, byte* sc, int i) => BlockSumGemm.RunScales(sc, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Scales2(byte* src, nint rowBytes, byte* sc, int i) => BlockSumGemm.RunScales2(sc, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(byte* src, nint rowBytes, int i)
    {
    }
}

internal readonly unsafe struct FileRows8 : IQ8_0Rows
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(byte* src, nint rowBytes, int i, int k, out Vector512<byte> a0, out Vector512<byte> b0, out Vector512<byte> a1, out Vector512<byte> b1)
    {
        byte* x0 = src + (k * rowBytes) + (i * 2 * BlockQ8_0.Bytes);
        Q8_0Gemm.Load(x0, out a0, out b0);
        Q8_0Gemm.Load(x0 + rowBytes, out a1, out b1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Scales(byte* src, nint rowBytes, byte* sc, int i) => BlockSumGemm.FileScales(src, rowBytes, BlockQ8_0.Bytes, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Scales2(byte* src, nint rowBytes, byte* sc, int i) => BlockSumGemm.FileScales2(src, rowBytes, BlockQ8_0.Bytes, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(byte* src, nint rowBytes, int i) => BlockSumGemm.FilePrefetch(src, rowBytes, BlockQ8_0.Bytes, i);
}

/// <summary>Q8_0's whole-block tiles on the layout <typeparamref name="TRows"/> reads (packed runs or the file's rows).</summary>
internal readonly unsafe struct Q8_0Tiles<TRows> : IBlockSumTiles
    where TRows : struct, IQ8_0Rows
{
    public static void Tile4x4(byte* src, nint rowBytes, byte* sc, int pairs, byte* p, nint prepStride, float* y, int yStride) =>
        Q8_0BlockSums.Tile4x4<TRows>(src, rowBytes, sc, pairs, p, prepStride, y, yStride);

    public static void Tile4x2(byte* src, nint rowBytes, byte* sc, int pairs, byte* p, nint prepStride, float* y, int yStride) =>
        Q8_0BlockSums.Tile4x2<TRows>(src, rowBytes, sc, pairs, p, prepStride, y, yStride);

    public static void Tile4x1(byte* src, nint rowBytes, byte* sc, int pairs, byte* p, float* y) =>
        Q8_0BlockSums.Tile4x1<TRows>(src, rowBytes, sc, pairs, p, y);

    public static float Tile1(byte* x, int pairs, byte* p) => Q8_0BlockSums.Tile1(x, pairs, p);
}
