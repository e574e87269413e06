using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// Q4_0 × Q8_0 on AVX-512 with whole-block integer sums. Each block's <c>sumi = Σ (q − 8)·y</c> is formed exactly in
/// int16 (|sumi| ≤ 32 · 8 · 127 = 32,512 since Q8_0 activations lie in [−127, 127], and every partial sum is a part of
/// one block's), then converted once and fused-multiply-added with <c>d_x·d_y</c> into two accumulators per output, one
/// for even and one for odd blocks; the result is <c>even + odd</c>. This replaces ggml's per-lane scheme (8 int32 lanes
/// per block, each converted and scaled: a <c>vpmaddwd</c>, a conversion, a multiply and an FMA per 64 products) for
/// Q4_0 only: a tile's 16 (or 8, or 4) <c>vpmaddubsw</c> results are summed by a tree of in-lane unpacks and 16-bit adds
/// that ends with all their block sums in one vector, so the multiply pipes see one <c>vpmaddubsw</c> per 64 products
/// and one conversion, multiply and FMA per 16 block sums (1.6-2× a 4 × 4 tile on Zen 4, which has no VNNI).
/// <see cref="LegacyBlockDot.BlockSumDot{T}"/> is the row dot with the same arithmetic, and every tile here gives bit for
/// bit what it gives; <see cref="BlockSumGemm"/> drives the tiles.
/// </summary>
internal static unsafe class Q4_0BlockSums
{
    /// <summary>One pair's <c>vpmaddubsw</c> of weight nibbles and activation bytes minus the offset term: int16 lanes
    /// holding (q − 8)·y summed over element pairs, 16 lanes a block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> M(Vector512<byte> a, byte* prepared) =>
        Avx512BW.MultiplyAddAdjacent(a, Vector512.Load((sbyte*)prepared)) - Vector512.Load((short*)(prepared + 64));

    /// <summary>One pair's <c>vpmaddubsw</c> of weight nibbles (0-15) and activation bytes without the offset term:
    /// u·y summed over element pairs, which a tree sums in wrapping 16-bit arithmetic (a block's Σ u·y may exceed
    /// int16; the tile subtracts the block's offset sum 8·Σ y after the tree, and the true Σ (u − 8)·y fits, so the
    /// wrapped difference is exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> P(Vector512<byte> a, byte* prepared) =>
        Avx512BW.MultiplyAddAdjacent(a, Vector512.Load((sbyte*)prepared));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> M(Vector512<byte> a, Vector512<sbyte> q, Vector512<short> offset) =>
        Avx512BW.MultiplyAddAdjacent(a, q) - offset;

    // The tree: within each 128-bit lane, H16 interleaves two vectors' words and adds (pairs of partials), H32 and H64
    // do the same with double and quad words; after H16, H32, H64 over eight vectors, word j of a lane is the sum of
    // vector j's eight words in that lane. 16-bit adds throughout (the sums stay within one block: no overflow).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> H16(Vector512<short> x, Vector512<short> y) => Avx512BW.UnpackLow(x, y) + Avx512BW.UnpackHigh(x, y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> H32(Vector512<short> x, Vector512<short> y) =>
        Avx512F.UnpackLow(x.AsInt32(), y.AsInt32()).AsInt16() + Avx512F.UnpackHigh(x.AsInt32(), y.AsInt32()).AsInt16();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> H64(Vector512<short> x, Vector512<short> y) =>
        Avx512F.UnpackLow(x.AsInt64(), y.AsInt64()).AsInt16() + Avx512F.UnpackHigh(x.AsInt64(), y.AsInt64()).AsInt16();

    /// <summary>Lanes 0+1 (a pair's block 0) and 2+3 (block 1) of two reduced vectors: [r block 0 | r block 1 | s block 0 | s block 1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Blocks(Vector512<short> r, Vector512<short> s) =>
        Avx512F.Shuffle4x128(r.AsInt32(), s.AsInt32(), 0b10_00_10_00).AsInt16() + Avx512F.Shuffle4x128(r.AsInt32(), s.AsInt32(), 0b11_01_11_01).AsInt16();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ToFloat(Vector256<short> s) => Vector512.ConvertToSingle(Avx512BW.ConvertToVector512Int32(s));

    /// <summary>4 weight rows × 4 activation rows. The sixteen products enter the tree without their offset terms;
    /// the block offset sums of the four activations (<see cref="LegacyGemm.BlockOffsets"/>), laid out as the tree's
    /// block sums, are subtracted once.</summary>
    internal static void Tile4x4<TRows>(byte* src, nint rowBytes, byte* sc, int pairs, byte* p, nint prepStride, float* y, int yStride)
        where TRows : struct, IQ4_0Rows
    {
        byte* q0 = p, q1 = p + prepStride, q2 = q1 + prepStride, q3 = q2 + prepStride;
        int* o0 = (int*)LegacyGemm.BlockOffsets(q0, pairs), o1 = (int*)LegacyGemm.BlockOffsets(q1, pairs);
        int* o2 = (int*)LegacyGemm.BlockOffsets(q2, pairs), o3 = (int*)LegacyGemm.BlockOffsets(q3, pairs);
        // Words of the offsets vector: [act 0 block 0, act 0 block 1, act 1 block 0, …]; word j of each 128-bit lane
        // of the block sums is row·4 + activation, lanes: block 0, block 1, block 0, block 1.
        var spread = Vector512.Create(
            (short)0, 2, 4, 6, 0, 2, 4, 6, 1, 3, 5, 7, 1, 3, 5, 7, 0, 2, 4, 6, 0, 2, 4, 6, 1, 3, 5, 7, 1, 3, 5, 7);
        Vector512<float> e0 = default, e1 = default;
        for (int i = 0; i < pairs; i++)
        {
            nint off = i * LegacyGemm.PairBytes;
            byte* p0 = q0 + off, p1 = q1 + off, p2 = q2 + off, p3 = q3 + off;
            TRows.Load(src, rowBytes, i, out var a0, out var a1, out var a2, out var a3);
            // Word j of a lane: rows 0-1 (ra) or 2-3 (rb), j = 4·(row) + activation.
            var ra = H64(H32(H16(P(a0, p0), P(a0, p1)), H16(P(a0, p2), P(a0, p3))), H32(H16(P(a1, p0), P(a1, p1)), H16(P(a1, p2), P(a1, p3))));
            var rb = H64(H32(H16(P(a2, p0), P(a2, p1)), H16(P(a2, p2), P(a2, p3))), H32(H16(P(a3, p0), P(a3, p1)), H16(P(a3, p2), P(a3, p3))));
            var offsets = Vector128.Create(o0[i], o1[i], o2[i], o3[i]).AsInt16().ToVector256Unsafe().ToVector512Unsafe();
            var s = Blocks(ra, rb) - Avx512BW.PermuteVar32x16(offsets, spread);
            Vector512<float> dw = TRows.Scales(src, rowBytes, sc, i);
            var g = Vector256.Create(BlockSumGemm.ActScales(q0, pairs, i), BlockSumGemm.ActScales(q1, pairs, i), BlockSumGemm.ActScales(q2, pairs, i), BlockSumGemm.ActScales(q3, pairs, i)).AsSingle().ToVector512Unsafe();
            var dx = Avx512F.PermuteVar16x32(g, Vector512.Create(0, 2, 4, 6, 0, 2, 4, 6, 1, 3, 5, 7, 1, 3, 5, 7));
            var w0 = Avx512F.PermuteVar16x32(dw, Vector512.Create(0, 0, 0, 0, 2, 2, 2, 2, 1, 1, 1, 1, 3, 3, 3, 3));
            var w1 = Avx512F.PermuteVar16x32(dw, Vector512.Create(4, 4, 4, 4, 6, 6, 6, 6, 5, 5, 5, 5, 7, 7, 7, 7));
            e0 = Vector512.FusedMultiplyAdd(ToFloat(s.GetLower()), w0 * dx, e0);
            e1 = Vector512.FusedMultiplyAdd(ToFloat(s.GetUpper()), w1 * dx, e1);
        }
        // Lane j (< 8) of e0: row j / 4, activation j % 4, even blocks; lane 8 + j the odd blocks. e1: rows 2-3.
        for (int j = 0; j < 8; j++)
        {
            int r = j >> 2, a = j & 3;
            y[((long)a * yStride) + r] = e0.GetElement(j) + e0.GetElement(8 + j);
            y[((long)a * yStride) + r + 2] = e1.GetElement(j) + e1.GetElement(8 + j);
        }
    }

    /// <summary>4 weight rows × 2 activation rows.</summary>
    internal static void Tile4x2<TRows>(byte* src, nint rowBytes, byte* sc, int pairs, byte* p, nint prepStride, float* y, int yStride)
        where TRows : struct, IQ4_0Rows
    {
        byte* q0 = p, q1 = p + prepStride;
        Vector512<float> e = default;
        for (int i = 0; i < pairs; i++)
        {
            nint off = i * LegacyGemm.PairBytes;
            byte* p0 = q0 + off, p1 = q1 + off;
            TRows.Load(src, rowBytes, i, out var a0, out var a1, out var a2, out var a3);
            // Word j of a lane: j = 2·row + activation.
            var r = H64(H32(H16(M(a0, p0), M(a0, p1)), H16(M(a1, p0), M(a1, p1))), H32(H16(M(a2, p0), M(a2, p1)), H16(M(a3, p0), M(a3, p1))));
            var s = Blocks(r, r);
            Vector512<float> dw = TRows.Scales(src, rowBytes, sc, i);
            var g = Vector128.Create(BlockSumGemm.ActScales(q0, pairs, i), BlockSumGemm.ActScales(q1, pairs, i)).AsSingle().ToVector256Unsafe().ToVector512Unsafe();
            var dx = Avx512F.PermuteVar16x32(g, Vector512.Create(0, 2, 0, 2, 0, 2, 0, 2, 1, 3, 1, 3, 1, 3, 1, 3));
            var w = Avx512F.PermuteVar16x32(dw, Vector512.Create(0, 0, 2, 2, 4, 4, 6, 6, 1, 1, 3, 3, 5, 5, 7, 7));
            e = Vector512.FusedMultiplyAdd(ToFloat(s.GetLower()), w * dx, e);
        }
        for (int j = 0; j < 8; j++)
        {
            y[((long)(j & 1) * yStride) + (j >> 1)] = e.GetElement(j) + e.GetElement(8 + j);
        }
    }

    /// <summary>Decode: 4 weight rows × 1 activation row, two pairs a step (one tree for both); reads each prepared
    /// pair's first operand and the compact scales only (the offset term is formed from the operand, as
    /// <see cref="LegacyPacked"/>'s decode tile does).</summary>
    internal static void Tile4x1<TRows>(byte* src, nint rowBytes, byte* sc, int pairs, byte* p, float* y)
        where TRows : struct, IQ4_0Rows
    {
        // Lanes 0-3: rows 0-3, even blocks; lanes 8-11: odd blocks (the other lanes stay 0).
        Vector512<float> e = default;
        byte* ys = LegacyGemm.DecodeScales(p, pairs);
        var kept = Vector512.Create(-1, -1, -1, -1, 0, 0, 0, 0, -1, -1, -1, -1, 0, 0, 0, 0).AsSingle();
        var second = Vector512.Create(4, 5, 6, 7, 4, 5, 6, 7, 12, 13, 14, 15, 12, 13, 14, 15);
        int i = 0;
        for (; i + 2 <= pairs; i += 2)
        {
            byte* pi = p + (i * LegacyGemm.PairBytes);
            TRows.Prefetch(src, rowBytes, i);
            Vector512<sbyte> q = Vector512.Load((sbyte*)pi), u = Vector512.Load((sbyte*)(pi + LegacyGemm.PairBytes));
            Vector512<short> oq = Q4_0Gemm.Offset(q), ou = Q4_0Gemm.Offset(u);
            TRows.Load(src, rowBytes, i, out var a0, out var a1, out var a2, out var a3);
            var hv = H32(H16(M(a0, q, oq), M(a1, q, oq)), H16(M(a2, q, oq), M(a3, q, oq)));
            TRows.Load(src, rowBytes, i + 1, out a0, out a1, out a2, out a3);
            var hw = H32(H16(M(a0, u, ou), M(a1, u, ou)), H16(M(a2, u, ou), M(a3, u, ou)));
            // Lanes after the tree: j % 4 = row, (j / 4) % 2 = pair i or i + 1, j / 8 = block.
            var t = H64(hv, hw);
            var x = ToFloat(Blocks(t, t).GetLower());
            var w = Avx512F.PermuteVar16x32(TRows.Scales2(src, rowBytes, sc, i), Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15));
            var dx = Avx512F.PermuteVar16x32(Vector128.Load((float*)(ys + (i * 8))).ToVector256Unsafe().ToVector512Unsafe(), Vector512.Create(0, 0, 0, 0, 2, 2, 2, 2, 1, 1, 1, 1, 3, 3, 3, 3));
            var m = w * dx;
            // Pair i, then pair i + 1 moved into the same lanes: each lane adds its pairs in order, as the row dot does.
            e = Vector512.ConditionalSelect(kept, Vector512.FusedMultiplyAdd(x, m, e), e);
            e = Vector512.ConditionalSelect(kept, Vector512.FusedMultiplyAdd(Avx512F.PermuteVar16x32(x, second), Avx512F.PermuteVar16x32(m, second), e), e);
        }
        if (i < pairs)
        {
            byte* pi = p + (i * LegacyGemm.PairBytes);
            Vector512<sbyte> q = Vector512.Load((sbyte*)pi);
            Vector512<short> oq = Q4_0Gemm.Offset(q);
            TRows.Load(src, rowBytes, i, out var a0, out var a1, out var a2, out var a3);
            var h = H32(H16(M(a0, q, oq), M(a1, q, oq)), H16(M(a2, q, oq), M(a3, q, oq)));
            var t = H64(h, h);
            var x = ToFloat(Blocks(t, t).GetLower());
            var w = Avx512F.PermuteVar16x32(TRows.Scales(src, rowBytes, sc, i), Vector512.Create(0, 2, 4, 6, 0, 2, 4, 6, 1, 3, 5, 7, 1, 3, 5, 7));
            var dx = Avx512F.PermuteVar16x32(Vector128.CreateScalar(BlockSumGemm.ActScales(p, pairs, i)).AsSingle().ToVector256Unsafe().ToVector512Unsafe(), Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
            e = Vector512.ConditionalSelect(kept, Vector512.FusedMultiplyAdd(x, w * dx, e), e);
        }
        for (int r = 0; r < 4; r++)
        {
            y[r] = e.GetElement(r) + e.GetElement(8 + r);
        }
    }

    /// <summary>One row in the file's layout against one prepared activation row (rows left over from the 4-row tiles).</summary>
    internal static float Tile1(byte* x, int pairs, byte* p)
    {
        float even = 0, odd = 0;
        float* ys = (float*)LegacyGemm.DecodeScales(p, pairs);
        for (int i = 0; i < pairs; i++)
        {
            byte* x0 = x + (i * 2 * BlockQ4_0.Bytes);
            Q4_0Gemm.Load(x0, out var a, out _);
            Vector512<int> s = Avx512BW.MultiplyAddAdjacent(M(a, p + (i * LegacyGemm.PairBytes)), Vector512<short>.One);
            float d0 = Fp16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(x0)), d1 = Fp16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(x0 + BlockQ4_0.Bytes));
            even = MathF.FusedMultiplyAdd(Vector256.Sum(s.GetLower()), d0 * ys[2 * i], even);
            odd = MathF.FusedMultiplyAdd(Vector256.Sum(s.GetUpper()), d1 * ys[(2 * i) + 1], odd);
        }
        return even + odd;
    }
}

/// <summary>Where four Q4_0 rows' block pairs come from: the packed runs or the file's blocks.</summary>
internal unsafe interface IQ4_0Rows
{
    /// <summary>Pair <paramref name="i"/> of the four rows as <see cref="Q4_0Gemm.Load"/> unpacks it.</summary>
    static abstract void Load(byte* src, nint rowBytes, int i, out Vector512<byte> a0, out Vector512<byte> a1, out Vector512<byte> a2, out Vector512<byte> a3);

    /// <summary>Lanes 0..7: d(row 0, block 0), d(row 0, block 1), d(row 1, block 0), … d(row 3, block 1).</summary>
    static abstract Vector512<float> Scales(byte* src, nint rowBytes, byte* sc, int i);

    /// <summary>Pairs <paramref name="i"/> and i + 1: lanes 0..7 as <see cref="Scales"/> for pair i, lanes 8..15 for pair i + 1.</summary>
    static abstract Vector512<float> Scales2(byte* src, nint rowBytes, byte* sc, int i);

    /// <summary>Decode's look-ahead into the rows (nothing where the layout streams by itself).</summary>
    static abstract void Prefetch(byte* src, nint rowBytes, int i);
}

internal readonly unsafe struct PackedRows : IQ4_0Rows
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(byte* src, nint rowBytes, int i, out Vector512<byte> a0, out Vector512<byte> a1, out Vector512<byte> a2, out Vector512<byte> a3)
    {
        byte* run = src + (i * Q4_0Packing.RowBytes * LegacyPacked.GroupRows);
        Q4_0Packing.Load2(run, out a0, out _, out a1, out _);
        Q4_0Packing.Load2(run + (2 * Q4_0Packing.RowBytes), out a2, out _, out a3, out _);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Scales(byte* src, nint rowBytes, byte* sc, int i) => BlockSumGemm.RunScales(sc, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Scales2(byte* src, nint rowBytes, byte* sc, int i) => BlockSumGemm.RunScales2(sc, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(byte* src, nint rowBytes, int i)
    {
    }
}

internal readonly unsafe struct FileRows : IQ4_0Rows
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(byte* src, nint rowBytes, int i, out Vector512<byte> a0, out Vector512<byte> a1, out Vector512<byte> a2, out Vector512<byte> a3)
    {
        byte* x0 = src + (i * 2 * BlockQ4_0.Bytes);
        Q4_0Gemm.Load(x0, out a0, out _);
        Q4_0Gemm.Load(x0 + rowBytes, out a1, out _);
        Q4_0Gemm.Load(x0 + (2 * rowBytes), out a2, out _);
        Q4_0Gemm.Load(x0 + (3 * rowBytes), out a3, out _);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Scales(byte* src, nint rowBytes, byte* sc, int i) => BlockSumGemm.FileScales(src, rowBytes, BlockQ4_0.Bytes, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Scales2(byte* src, nint rowBytes, byte* sc, int i) => BlockSumGemm.FileScales2(src, rowBytes, BlockQ4_0.Bytes, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(byte* src, nint rowBytes, int i) => BlockSumGemm.FilePrefetch(src, rowBytes, BlockQ4_0.Bytes, i);
}

/// <summary>Q4_0's whole-block tiles on the layout <typeparamref name="TRows"/> reads (packed runs or the file's rows).</summary>
internal readonly unsafe struct Q4_0Tiles<TRows> : IBlockSumTiles
    where TRows : struct, IQ4_0Rows
{
    public static void Tile4x4(byte* src, nint rowBytes, byte* sc, int pairs, byte* p, nint prepStride, float* y, int yStride) =>
        Q4_0BlockSums.Tile4x4<TRows>(src, rowBytes, sc, pairs, p, prepStride, y, yStride);

    public static void Tile4x2(byte* src, nint rowBytes, byte* sc, int pairs, byte* p, nint prepStride, float* y, int yStride) =>
        Q4_0BlockSums.Tile4x2<TRows>(src, rowBytes, sc, pairs, p, prepStride, y, yStride);

    public static void Tile4x1(byte* src, nint rowBytes, byte* sc, int pairs, byte* p, float* y) =>
        Q4_0BlockSums.Tile4x1<TRows>(src, rowBytes, sc, pairs, p, y);

    public static float Tile1(byte* x, int pairs, byte* p) => Q4_0BlockSums.Tile1(x, pairs, p);
}
