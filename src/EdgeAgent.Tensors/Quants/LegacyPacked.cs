using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// Q4_0 and Q8_0 weights repacked at load for <see cref="LegacyGemm"/>'s arithmetic (ggml's repacking idea, our own
/// layout): rows in groups of four, and per group and block pair one run of quants (row 0's two blocks, row 1's, …
/// row 3's) in one region and the eight fp16 scales of that run in another. The file's 18- and 34-byte blocks need
/// 128-bit loads, inserts and two scale lookups per row and pair; here 256/512-bit loads unpack two rows at a time
/// and one conversion gives a run's eight scales. The unpacked vectors and scales are exactly those of
/// <see cref="Q4_0Gemm"/> / <see cref="Q8_0Gemm"/> on the file layout and the tiles run the same <c>Step</c>
/// sequence, so every output is bit-identical to the file-layout tiles and to <see cref="LegacyBlockDot"/>.
/// Same bytes as the file. Q4_0 runs <see cref="Q4_0BlockSums"/>'s tiles on this layout (its runs and scales read
/// through <see cref="PackedRows"/>).
/// </summary>
internal static unsafe class LegacyPacked
{
    /// <summary>Rows per group.</summary>
    public const int GroupRows = 4;

    private const int ScaleBytes = 16;

    /// <summary>True when a <paramref name="rows"/> × <paramref name="cols"/> matrix of <paramref name="type"/> can be packed and multiplied here.</summary>
    public static bool CanPack(GgmlType type, int rows, int cols) =>
        type is GgmlType.Q4_0 or GgmlType.Q8_0 && LegacyGemm.Supports(type, cols) && rows % GroupRows == 0 && rows > 0;

    /// <summary>Bytes of the packed matrix (the file's size).</summary>
    public static long PackedBytes(GgmlType type, int rows, int cols) => (long)rows / GroupRows * (cols / 64) * (RunBytes(type) + ScaleBytes);

    private static int RunBytes(GgmlType type) => type == GgmlType.Q4_0 ? GroupRows * Q4_0Packing.RowBytes : GroupRows * Q8_0Packing.RowBytes;

    private static int BlockBytes(GgmlType type) => type == GgmlType.Q4_0 ? BlockQ4_0.Bytes : BlockQ8_0.Bytes;

    /// <summary>Packs rows [<paramref name="r0"/>, <paramref name="r1"/>) (multiples of four) read from <paramref name="src"/> (file layout, row r0 first).</summary>
    public static void Pack(GgmlType type, byte* src, int rows, int cols, int r0, int r1, byte* dst)
    {
        int pairs = cols / 64, runBytes = RunBytes(type), blockBytes = BlockBytes(type), rowRun = runBytes / GroupRows;
        int rowBytes = cols / 32 * blockBytes;
        byte* scales = dst + ((long)rows / GroupRows * pairs * runBytes);
        for (int r = r0; r < r1; r += GroupRows)
        {
            long g = r / GroupRows;
            for (int i = 0; i < pairs; i++)
            {
                byte* run = dst + (((g * pairs) + i) * runBytes);
                ushort* sc = (ushort*)(scales + (((g * pairs) + i) * ScaleBytes));
                for (int k = 0; k < GroupRows; k++)
                {
                    byte* b0 = src + ((long)(r - r0 + k) * rowBytes) + (i * 2 * blockBytes);
                    byte* b1 = b0 + blockBytes;
                    sc[2 * k] = Unsafe.ReadUnaligned<ushort>(b0);
                    sc[(2 * k) + 1] = Unsafe.ReadUnaligned<ushort>(b1);
                    if (type == GgmlType.Q4_0)
                    {
                        Q4_0Packing.PackRow(b0 + 2, b1 + 2, run + (k * rowRun));
                    }
                    else
                    {
                        Q8_0Packing.PackRow(b0 + 2, b1 + 2, run + (k * rowRun));
                    }
                }
            }
        }
    }

    /// <summary>Row <paramref name="r"/> back in the file's layout (<paramref name="dst"/>: cols / 32 blocks).</summary>
    public static void Unpack(GgmlType type, byte* packed, int rows, int cols, int r, byte* dst)
    {
        int pairs = cols / 64, runBytes = RunBytes(type), blockBytes = BlockBytes(type), rowRun = runBytes / GroupRows;
        byte* scales = packed + ((long)rows / GroupRows * pairs * runBytes);
        long g = r / GroupRows;
        int k = r % GroupRows;
        for (int i = 0; i < pairs; i++)
        {
            byte* run = packed + (((g * pairs) + i) * runBytes) + (k * rowRun);
            ushort* sc = (ushort*)(scales + (((g * pairs) + i) * ScaleBytes));
            byte* b0 = dst + (i * 2 * blockBytes);
            byte* b1 = b0 + blockBytes;
            Unsafe.WriteUnaligned(b0, sc[2 * k]);
            Unsafe.WriteUnaligned(b1, sc[(2 * k) + 1]);
            if (type == GgmlType.Q4_0)
            {
                Q4_0Packing.UnpackRow(run, b0 + 2, b1 + 2);
            }
            else
            {
                Q8_0Packing.UnpackRow(run, b0 + 2, b1 + 2);
            }
        }
    }

    /// <summary>
    /// <c>y[b·yStride + r] = W[r]·x[b]</c> for rows [r0, r1) (multiples of four) and every activation row, x
    /// prepared by <see cref="LegacyGemm.Prepare"/> for <paramref name="type"/>.
    /// </summary>
    public static void Run(GgmlType type, byte* packed, int rows, int cols, byte* prepared, int prepStride, int batch, int r0, int r1, float* y, int yStride)
    {
        if (type == GgmlType.Q4_0)
        {
            Q4_0BlockSums.RunPacked(packed, rows, cols, prepared, prepStride, batch, r0, r1, y, yStride);
        }
        else
        {
            Q8_0BlockSums.RunPacked(packed, rows, cols, prepared, prepStride, batch, r0, r1, y, yStride);
        }
    }

    private static void Run<T>(byte* packed, int rows, int cols, byte* prepared, int prepStride, int batch, int r0, int r1, float* y, int yStride)
        where T : struct, IPackedFormat
    {
        int pairs = cols / 64;
        nint runBytes = T.RowBytes * GroupRows;
        byte* scales = packed + ((long)rows / GroupRows * pairs * runBytes);
        const int RowBlock = 16;
        for (int rb = r0; rb < r1; rb += RowBlock)
        {
            int rEnd = Math.Min(r1, rb + RowBlock);
            int b = 0;
            for (; b + 4 <= batch; b += 4)
            {
                byte* p0 = prepared + ((long)b * prepStride);
                for (int r = rb; r < rEnd; r += GroupRows)
                {
                    long g = r / GroupRows;
                    Tile4x4<T>(packed + (g * pairs * runBytes), scales + (g * pairs * ScaleBytes), pairs, p0, prepStride, y + ((long)b * yStride) + r, yStride);
                }
            }
            for (; b + 2 <= batch; b += 2)
            {
                byte* p0 = prepared + ((long)b * prepStride);
                for (int r = rb; r < rEnd; r += GroupRows)
                {
                    long g = r / GroupRows;
                    Tile4x2<T>(packed + (g * pairs * runBytes), scales + (g * pairs * ScaleBytes), pairs, p0, p0 + prepStride, y + ((long)b * yStride) + r, yStride);
                }
            }
            if (b < batch)
            {
                byte* p0 = prepared + ((long)b * prepStride);
                for (int r = rb; r < rEnd; r += GroupRows)
                {
                    long g = r / GroupRows;
                    Tile4x1<T>(packed + (g * pairs * runBytes), scales + (g * pairs * ScaleBytes), pairs, p0, y + ((long)b * yStride) + r);
                }
            }
        }
    }

    /// <summary>The run's eight scales as floats in lanes 0..7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Scales8(byte* sc) =>
        Fp16Conversions.ToFloat(Avx2.ConvertToVector256Int32(Vector128.Load((ushort*)sc)).AsUInt32()).ToVector512Unsafe();

    /// <summary>[d(row k, block 0) × 8 | d(row k, block 1) × 8], as <see cref="LegacyGemm.Scales"/> gives it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Row(Vector512<float> d8, int k) =>
        Avx512F.PermuteVar16x32(d8, Vector512.Create(2 * k, 2 * k, 2 * k, 2 * k, 2 * k, 2 * k, 2 * k, 2 * k,
            (2 * k) + 1, (2 * k) + 1, (2 * k) + 1, (2 * k) + 1, (2 * k) + 1, (2 * k) + 1, (2 * k) + 1, (2 * k) + 1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step<T>(Vector512<float> acc, Vector512<byte> a, Vector512<byte> b, Vector512<float> dx, byte* prepared)
        where T : struct, IPackedFormat =>
        Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(T.Dot(a, b, prepared)), dx * Vector512.Load((float*)(prepared + 128)), acc);

    /// <summary>
    /// Decode: four rows against one activation row. It reads each prepared pair's first operand (Q4_0 computes the
    /// second from it) and the compact scales, and multiplies the run's eight weight scales by the activation scales
    /// in one vector (the same single products d_x·d_y the other tiles form lane by lane).
    /// </summary>
    private static void Tile4x1<T>(byte* qs, byte* sc, int pairs, byte* p, float* y)
        where T : struct, IPackedFormat
    {
        nint runBytes = T.RowBytes * GroupRows;
        byte* yd = LegacyGemm.DecodeScales(p, pairs);
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int i = 0; i < pairs; i++)
        {
            byte* run = qs + (i * runBytes);
            byte* pi = p + (i * LegacyGemm.PairBytes);
            Vector512<sbyte> q = Vector512.Load((sbyte*)pi);
            Vector512<short> second = T.Second(q, pi);
            Vector256<float> ys = Vector256.Create(Unsafe.ReadUnaligned<double>(yd + (i * 8))).AsSingle();
            Vector512<float> d8 = (Scales8(sc + (i * ScaleBytes)).GetLower() * ys).ToVector512Unsafe();
            T.Load2(run, out var a0, out var b0, out var a1, out var b1);
            c0 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(T.Dot(a0, b0, q, second)), Row(d8, 0), c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(T.Dot(a1, b1, q, second)), Row(d8, 1), c1);
            T.Load2(run + (2 * T.RowBytes), out var a2, out var b2, out var a3, out var b3);
            c2 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(T.Dot(a2, b2, q, second)), Row(d8, 2), c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(T.Dot(a3, b3, q, second)), Row(d8, 3), c3);
        }
        y[0] = LegacyGemm.Total(c0);
        y[1] = LegacyGemm.Total(c1);
        y[2] = LegacyGemm.Total(c2);
        y[3] = LegacyGemm.Total(c3);
    }

    private static void Tile4x2<T>(byte* qs, byte* sc, int pairs, byte* p, byte* q, float* y, int yStride)
        where T : struct, IPackedFormat
    {
        nint runBytes = T.RowBytes * GroupRows;
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector512<float> e0 = default, e1 = default, e2 = default, e3 = default;
        for (int i = 0; i < pairs; i++)
        {
            byte* run = qs + (i * runBytes);
            byte* pi = p + (i * LegacyGemm.PairBytes), qi = q + (i * LegacyGemm.PairBytes);
            Vector512<float> d8 = Scales8(sc + (i * ScaleBytes));
            T.Load2(run, out var a0, out var b0, out var a1, out var b1);
            Vector512<float> d0 = Row(d8, 0), d1 = Row(d8, 1);
            c0 = Step<T>(c0, a0, b0, d0, pi);
            e0 = Step<T>(e0, a0, b0, d0, qi);
            c1 = Step<T>(c1, a1, b1, d1, pi);
            e1 = Step<T>(e1, a1, b1, d1, qi);
            T.Load2(run + (2 * T.RowBytes), out var a2, out var b2, out var a3, out var b3);
            Vector512<float> d2 = Row(d8, 2), d3 = Row(d8, 3);
            c2 = Step<T>(c2, a2, b2, d2, pi);
            e2 = Step<T>(e2, a2, b2, d2, qi);
            c3 = Step<T>(c3, a3, b3, d3, pi);
            e3 = Step<T>(e3, a3, b3, d3, qi);
        }
        y[0] = LegacyGemm.Total(c0);
        y[1] = LegacyGemm.Total(c1);
        y[2] = LegacyGemm.Total(c2);
        y[3] = LegacyGemm.Total(c3);
        y += yStride;
        y[0] = LegacyGemm.Total(e0);
        y[1] = LegacyGemm.Total(e1);
        y[2] = LegacyGemm.Total(e2);
        y[3] = LegacyGemm.Total(e3);
    }

    private static void Tile4x4<T>(byte* qs, byte* sc, int pairs, byte* p, nint prepStride, float* y, int yStride)
        where T : struct, IPackedFormat
    {
        nint runBytes = T.RowBytes * GroupRows;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        for (int i = 0; i < pairs; i++)
        {
            byte* run = qs + (i * runBytes);
            byte* p0 = p + (i * LegacyGemm.PairBytes), p1 = p0 + prepStride, p2 = p1 + prepStride, p3 = p2 + prepStride;
            Vector512<float> d8 = Scales8(sc + (i * ScaleBytes));
            T.Load2(run, out var a0, out var b0, out var a1, out var b1);
            Vector512<float> d = Row(d8, 0);
            c00 = Step<T>(c00, a0, b0, d, p0);
            c01 = Step<T>(c01, a0, b0, d, p1);
            c02 = Step<T>(c02, a0, b0, d, p2);
            c03 = Step<T>(c03, a0, b0, d, p3);
            d = Row(d8, 1);
            c10 = Step<T>(c10, a1, b1, d, p0);
            c11 = Step<T>(c11, a1, b1, d, p1);
            c12 = Step<T>(c12, a1, b1, d, p2);
            c13 = Step<T>(c13, a1, b1, d, p3);
            T.Load2(run + (2 * T.RowBytes), out var a2, out var b2, out var a3, out var b3);
            d = Row(d8, 2);
            c20 = Step<T>(c20, a2, b2, d, p0);
            c21 = Step<T>(c21, a2, b2, d, p1);
            c22 = Step<T>(c22, a2, b2, d, p2);
            c23 = Step<T>(c23, a2, b2, d, p3);
            d = Row(d8, 3);
            c30 = Step<T>(c30, a3, b3, d, p0);
            c31 = Step<T>(c31, a3, b3, d, p1);
            c32 = Step<T>(c32, a3, b3, d, p2);
            c33 = Step<T>(c33, a3, b3, d, p3);
        }
        LegacyGemm.Store4(y, c00, c10, c20, c30);
        LegacyGemm.Store4(y + yStride, c01, c11, c21, c31);
        LegacyGemm.Store4(y + (2L * yStride), c02, c12, c22, c32);
        LegacyGemm.Store4(y + (3L * yStride), c03, c13, c23, c33);
    }

}

/// <summary>One legacy format's part of <see cref="LegacyPacked"/>: how a row's two blocks of quants sit in a run
/// and how two consecutive rows unpack to <see cref="ILegacyGemmFormat"/>'s vectors.</summary>
internal unsafe interface IPackedFormat
{
    /// <summary>Bytes of one row's two blocks of quants in a run.</summary>
    static abstract int RowBytes { get; }

    /// <summary>Rows k and k + 1 of a run (at <paramref name="run"/>), unpacked as the file-layout Load does.</summary>
    static abstract void Load2(byte* run, out Vector512<byte> a0, out Vector512<byte> b0, out Vector512<byte> a1, out Vector512<byte> b1);

    static abstract Vector512<int> Dot(Vector512<byte> a, Vector512<byte> b, byte* prepared);

    /// <summary>
    /// The second operand of a prepared pair whose first, <paramref name="q"/>, is loaded: Q4_0 computes its offset term
    /// from <paramref name="q"/> (the same integers the pair stores), so decode never touches that line; Q8_0 loads it.
    /// </summary>
    static abstract Vector512<short> Second(Vector512<sbyte> q, byte* prepared);

    /// <summary>The integer sums of <c>Dot(a, b, prepared)</c> with the pair's operands already in registers.</summary>
    static abstract Vector512<int> Dot(Vector512<byte> a, Vector512<byte> b, Vector512<sbyte> q, Vector512<short> second);
}

/// <summary>Q4_0 in a run: per row the 16 nibble bytes of block 0, then those of block 1.</summary>
internal readonly unsafe struct Q4_0Packing : IPackedFormat
{
    public static int RowBytes => 32;

    public static void PackRow(byte* q0, byte* q1, byte* dst)
    {
        Buffer.MemoryCopy(q0, dst, 16, 16);
        Buffer.MemoryCopy(q1, dst + 16, 16, 16);
    }

    public static void UnpackRow(byte* src, byte* q0, byte* q1)
    {
        Buffer.MemoryCopy(src, q0, 16, 16);
        Buffer.MemoryCopy(src + 16, q1, 16, 16);
    }

    private static Vector512<ulong> FirstRow
    {
        // Inlined even where the caller is past the JIT's inlining budget (a call per use in a kernel loop otherwise).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(0UL, 1, 8, 9, 2, 3, 10, 11);
    }

    private static Vector512<ulong> SecondRow
    {
        // Inlined even where the caller is past the JIT's inlining budget (a call per use in a kernel loop otherwise).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(4UL, 5, 12, 13, 6, 7, 14, 15);
    }

    /// <summary>One 64-byte load, one shift, two masks and two permutes: [lo b0 | hi b0 | lo b1 | hi b1] per row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load2(byte* run, out Vector512<byte> a0, out Vector512<byte> b0, out Vector512<byte> a1, out Vector512<byte> b1)
    {
        Vector512<byte> v = Vector512.Load(run);
        Vector512<ulong> lo = (v & Vector512.Create((byte)0x0F)).AsUInt64();
        Vector512<ulong> hi = (Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & Vector512.Create((byte)0x0F)).AsUInt64();
        a0 = Avx512F.PermuteVar8x64x2(lo, FirstRow, hi).AsByte();
        a1 = Avx512F.PermuteVar8x64x2(lo, SecondRow, hi).AsByte();
        b0 = default;
        b1 = default;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Dot(Vector512<byte> a, Vector512<byte> b, byte* prepared) => Q4_0Gemm.Dot(a, b, prepared);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<short> Second(Vector512<sbyte> q, byte* prepared) => Q4_0Gemm.Offset(q);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Dot(Vector512<byte> a, Vector512<byte> b, Vector512<sbyte> q, Vector512<short> second) =>
        Q4_0Gemm.Dot(a, q, second);
}

/// <summary>Q8_0 in a run: per row elements 0..15 of block 0, of block 1, then 16..31 of block 0, of block 1, so
/// each half widens straight from memory to <see cref="Q8_0Gemm"/>'s operands.</summary>
internal readonly unsafe struct Q8_0Packing : IPackedFormat
{
    public static int RowBytes => 64;

    public static void PackRow(byte* q0, byte* q1, byte* dst)
    {
        Buffer.MemoryCopy(q0, dst, 16, 16);
        Buffer.MemoryCopy(q1, dst + 16, 16, 16);
        Buffer.MemoryCopy(q0 + 16, dst + 32, 16, 16);
        Buffer.MemoryCopy(q1 + 16, dst + 48, 16, 16);
    }

    public static void UnpackRow(byte* src, byte* q0, byte* q1)
    {
        Buffer.MemoryCopy(src, q0, 16, 16);
        Buffer.MemoryCopy(src + 16, q1, 16, 16);
        Buffer.MemoryCopy(src + 32, q0 + 16, 16, 16);
        Buffer.MemoryCopy(src + 48, q1 + 16, 16, 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Widen(byte* p) => Avx512BW.ConvertToVector512Int16(Vector256.Load((sbyte*)p)).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load2(byte* run, out Vector512<byte> a0, out Vector512<byte> b0, out Vector512<byte> a1, out Vector512<byte> b1)
    {
        a0 = Widen(run);
        b0 = Widen(run + 32);
        a1 = Widen(run + 64);
        b1 = Widen(run + 96);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Dot(Vector512<byte> a, Vector512<byte> b, byte* prepared) => Q8_0Gemm.Dot(a, b, prepared);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<short> Second(Vector512<sbyte> q, byte* prepared) => Vector512.Load((short*)(prepared + 64));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Dot(Vector512<byte> a, Vector512<byte> b, Vector512<sbyte> q, Vector512<short> second) =>
        Q8_0Gemm.Dot(a, b, q.AsInt16(), second);
}
