using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// Q4_0 and Q8_0 weights repacked at load (ggml's repacking idea, our own layout): rows in groups of four, and per
/// group and block pair one run of quants (row 0's two blocks, row 1's, … row 3's) in one region and the eight fp16
/// scales of that run in another. The file's 18- and 34-byte blocks need 128-bit loads, inserts and two scale lookups
/// per row and pair; here 256/512-bit loads unpack two rows at a time and one conversion gives a run's eight scales.
/// The unpacked vectors and scales are exactly those of <see cref="Q4_0Gemm"/> / <see cref="Q8_0Gemm"/> on the file
/// layout, and the tiles are the same (<see cref="Q4_0BlockSums"/>, <see cref="Q8_0BlockSums"/>, reading this layout
/// through <see cref="PackedRows"/> / <see cref="PackedRows8"/>), so every output is bit-identical to the file-layout
/// tiles and to <see cref="LegacyBlockDot"/>. Same bytes as the file.
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
            BlockSumGemm.RunPacked<Q4_0Tiles<PackedRows>>(packed, rows, cols, RunBytes(type), prepared, prepStride, batch, r0, r1, y, yStride);
        }
        else
        {
            BlockSumGemm.RunPacked<Q8_0Tiles<PackedRows8>>(packed, rows, cols, RunBytes(type), prepared, prepStride, batch, r0, r1, y, yStride);
        }
    }
}

/// <summary>One legacy format's part of <see cref="LegacyPacked"/>: how a row's two blocks of quants sit in a run
/// and how two consecutive rows unpack to the vectors <see cref="ILegacyGemmFormat.Load"/> gives.</summary>
internal unsafe interface IPackedFormat
{
    /// <summary>Bytes of one row's two blocks of quants in a run.</summary>
    static abstract int RowBytes { get; }

    /// <summary>Rows k and k + 1 of a run (at <paramref name="run"/>), unpacked as the file-layout Load does.</summary>
    static abstract void Load2(byte* run, out Vector512<byte> a0, out Vector512<byte> b0, out Vector512<byte> a1, out Vector512<byte> b1);
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

}
