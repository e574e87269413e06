using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Tensors.Quants;

/// <summary>One format's whole-block tiles (<see cref="Q4_0BlockSums"/>, <see cref="Q8_0BlockSums"/>) on one weight
/// layout: packed runs (<c>rowBytes</c> unused, <c>sc</c> the run's scales) or the file's rows (<c>sc</c> unused).</summary>
internal unsafe interface IBlockSumTiles
{
    /// <summary>4 weight rows × 4 activation rows.</summary>
    static abstract void Tile4x4(byte* src, nint rowBytes, byte* sc, int pairs, byte* p, nint prepStride, float* y, int yStride);

    /// <summary>4 weight rows × 2 activation rows.</summary>
    static abstract void Tile4x2(byte* src, nint rowBytes, byte* sc, int pairs, byte* p, nint prepStride, float* y, int yStride);

    /// <summary>Decode: 4 weight rows × 1 activation row.</summary>
    static abstract void Tile4x1(byte* src, nint rowBytes, byte* sc, int pairs, byte* p, float* y);

    /// <summary>One row in the file's layout against one activation row (rows left over from the 4-row tiles).</summary>
    static abstract float Tile1(byte* x, int pairs, byte* p);
}

/// <summary>
/// The driver of the whole-block tiles (Q4_0 and Q8_0 on AVX-512), and what they share: rows in cache blocks of 16
/// (their weights stay in L1/L2 while every activation passes), activations 4, 2 or 1 at a time, and the scale loads.
/// The arithmetic per output is <see cref="LegacyBlockDot.BlockSumDot{T}"/>'s, so every output equals the row dot.
/// </summary>
internal static unsafe class BlockSumGemm
{
    private const int RowBlock = 16;

    /// <summary>Bytes of a packed run's scales (eight fp16) per group and pair.</summary>
    private const int RunScaleBytes = 16;

    /// <summary>Packed weights (<see cref="LegacyPacked"/>'s layout, <paramref name="runBytes"/> of quants per group and
    /// pair), activations prepared by <see cref="LegacyGemm.Prepare"/>; rows [r0, r1) in groups of four.</summary>
    public static void RunPacked<T>(byte* packed, int rows, int cols, int runBytes, byte* prepared, int prepStride, int batch, int r0, int r1, float* y, int yStride)
        where T : struct, IBlockSumTiles
    {
        int pairs = cols / 64;
        byte* scales = packed + ((long)rows / LegacyPacked.GroupRows * pairs * runBytes);
        for (int rb = r0; rb < r1; rb += RowBlock)
        {
            int rEnd = Math.Min(r1, rb + RowBlock);
            int b = 0;
            for (; b + 4 <= batch; b += 4)
            {
                for (int r = rb; r < rEnd; r += 4)
                {
                    long g = r / LegacyPacked.GroupRows;
                    T.Tile4x4(packed + (g * pairs * runBytes), 0, scales + (g * pairs * RunScaleBytes), pairs, prepared + ((long)b * prepStride), prepStride, y + ((long)b * yStride) + r, yStride);
                }
            }
            for (; b + 2 <= batch; b += 2)
            {
                for (int r = rb; r < rEnd; r += 4)
                {
                    long g = r / LegacyPacked.GroupRows;
                    T.Tile4x2(packed + (g * pairs * runBytes), 0, scales + (g * pairs * RunScaleBytes), pairs, prepared + ((long)b * prepStride), prepStride, y + ((long)b * yStride) + r, yStride);
                }
            }
            if (b < batch)
            {
                for (int r = rb; r < rEnd; r += 4)
                {
                    long g = r / LegacyPacked.GroupRows;
                    T.Tile4x1(packed + (g * pairs * runBytes), 0, scales + (g * pairs * RunScaleBytes), pairs, prepared + ((long)b * prepStride), y + ((long)b * yStride) + r);
                }
            }
        }
    }

    /// <summary>Weights in the file's layout (<paramref name="rowBytes"/> apart), activations prepared as for <see cref="RunPacked{T}"/>.</summary>
    public static void RunFile<T>(byte* w, int rowBytes, int nb, byte* prepared, int prepStride, int batch, int r0, int r1, float* y, int yStride)
        where T : struct, IBlockSumTiles
    {
        int pairs = nb / 2;
        for (int rb = r0; rb < r1; rb += RowBlock)
        {
            int rEnd = Math.Min(r1, rb + RowBlock);
            int b = 0;
            for (; b + 4 <= batch; b += 4)
            {
                byte* p0 = prepared + ((long)b * prepStride);
                int r = rb;
                for (; r + 4 <= rEnd; r += 4)
                {
                    T.Tile4x4(w + ((long)r * rowBytes), rowBytes, null, pairs, p0, prepStride, y + ((long)b * yStride) + r, yStride);
                }
                for (; r < rEnd; r++)
                {
                    for (int j = 0; j < 4; j++)
                    {
                        y[((long)(b + j) * yStride) + r] = T.Tile1(w + ((long)r * rowBytes), pairs, p0 + ((long)j * prepStride));
                    }
                }
            }
            for (; b + 2 <= batch; b += 2)
            {
                byte* p0 = prepared + ((long)b * prepStride);
                int r = rb;
                for (; r + 4 <= rEnd; r += 4)
                {
                    T.Tile4x2(w + ((long)r * rowBytes), rowBytes, null, pairs, p0, prepStride, y + ((long)b * yStride) + r, yStride);
                }
                for (; r < rEnd; r++)
                {
                    y[((long)b * yStride) + r] = T.Tile1(w + ((long)r * rowBytes), pairs, p0);
                    y[((long)(b + 1) * yStride) + r] = T.Tile1(w + ((long)r * rowBytes), pairs, p0 + prepStride);
                }
            }
            if (b < batch)
            {
                byte* p0 = prepared + ((long)b * prepStride);
                int r = rb;
                for (; r + 4 <= rEnd; r += 4)
                {
                    T.Tile4x1(w + ((long)r * rowBytes), rowBytes, null, pairs, p0, y + ((long)b * yStride) + r);
                }
                for (; r < rEnd; r++)
                {
                    y[((long)b * yStride) + r] = T.Tile1(w + ((long)r * rowBytes), pairs, p0);
                }
            }
        }
    }

    /// <summary>An activation row's two scales of pair <paramref name="i"/> (<see cref="LegacyGemm.DecodeScales"/>) as one 64-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ActScales(byte* prepared, int pairs, int i) => Unsafe.ReadUnaligned<ulong>(LegacyGemm.DecodeScales(prepared, pairs) + (i * 8));

    /// <summary>A packed run's eight scales (row 0 block 0, row 0 block 1, … row 3 block 1) as floats in lanes 0..7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> RunScales(byte* sc, int i) =>
        Fp16Conversions.ToFloat(Avx2.ConvertToVector256Int32(Vector128.Load((ushort*)(sc + (i * RunScaleBytes)))).AsUInt32()).ToVector512Unsafe();

    /// <summary>Pairs <paramref name="i"/> and i + 1 of <see cref="RunScales"/>: lanes 0..7 and 8..15.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> RunScales2(byte* sc, int i) =>
        Fp16Conversions.ToFloat(Avx512F.ConvertToVector512Int32(Vector256.Load((ushort*)(sc + (i * RunScaleBytes)))).AsUInt32());

    /// <summary><see cref="RunScales"/>' lanes read from four rows in the file's layout (blocks of <paramref name="blockBytes"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FileScales(byte* src, nint rowBytes, int blockBytes, int i)
    {
        byte* x0 = src + (i * 2 * blockBytes);
        ushort D(int row, int block) => Unsafe.ReadUnaligned<ushort>(x0 + (row * rowBytes) + (block * blockBytes));
        var h = Vector128.Create(D(0, 0), D(0, 1), D(1, 0), D(1, 1), D(2, 0), D(2, 1), D(3, 0), D(3, 1));
        return Fp16Conversions.ToFloat(Avx2.ConvertToVector256Int32(h).AsUInt32()).ToVector512Unsafe();
    }

    /// <summary>Pairs <paramref name="i"/> and i + 1 of <see cref="FileScales"/>: lanes 0..7 and 8..15.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FileScales2(byte* src, nint rowBytes, int blockBytes, int i) =>
        Vector512.Create(FileScales(src, rowBytes, blockBytes, i).GetLower(), FileScales(src, rowBytes, blockBytes, i + 1).GetLower());

    /// <summary>Decode streams the file's weights from memory once: fetch about 8 KiB ahead in each of the four rows,
    /// across the 4 KiB page boundaries where the hardware prefetcher stops.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FilePrefetch(byte* src, nint rowBytes, int blockBytes, int i)
    {
        nint ahead = rowBytes * Math.Max(4, (8192 + rowBytes - 1) / rowBytes);
        byte* x0 = src + (i * 2 * blockBytes) + ahead;
        Sse.Prefetch0(x0);
        Sse.Prefetch0(x0 + rowBytes);
        Sse.Prefetch0(x0 + (2 * rowBytes));
        Sse.Prefetch0(x0 + (3 * rowBytes));
    }
}
