using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// Q4_0 weights repacked at load for <see cref="LegacyGemm"/> (ggml's repacking idea, our own layout): rows in
/// groups of four, and per group and block pair one 128-byte run of nibbles (row 0 blocks 0 and 1, row 1 …, row 3)
/// in one region and the eight fp16 scales of that run in another. The file's 18-byte blocks need two 16-byte loads,
/// three inserts and two scale lookups per row and pair; here two 64-byte loads, a shift, two masks and four
/// permutes unpack four rows, and one conversion gives their eight scales. The unpacked vectors and scales are
/// exactly those of <see cref="Q4_0Gemm"/> on the file layout, and the tiles run the same <c>Step</c> sequence, so
/// every output is bit-identical to the file-layout tiles and to <see cref="LegacyBlockDot"/>. Same bytes as the file.
/// </summary>
internal static unsafe class Q4_0Packed
{
    /// <summary>Rows per group.</summary>
    public const int GroupRows = 4;

    private const int RunBytes = 128;
    private const int ScaleBytes = 16;

    /// <summary>True when a <paramref name="rows"/> × <paramref name="cols"/> matrix of <paramref name="type"/> can be packed and multiplied here.</summary>
    public static bool CanPack(GgmlType type, int rows, int cols) =>
        type == GgmlType.Q4_0 && LegacyGemm.Supports(type, cols) && rows % GroupRows == 0 && rows > 0;

    /// <summary>Bytes of the packed matrix (the file's size: 18 bytes per block).</summary>
    public static long PackedBytes(int rows, int cols) => (long)rows / GroupRows * (cols / 64) * (RunBytes + ScaleBytes);

    /// <summary>Packs rows [<paramref name="r0"/>, <paramref name="r1"/>) (multiples of four) read from <paramref name="src"/> (file layout, row r0 first).</summary>
    public static void Pack(byte* src, int rows, int cols, int r0, int r1, byte* dst)
    {
        int pairs = cols / 64;
        int rowBytes = cols / 32 * BlockQ4_0.Bytes;
        byte* scales = dst + ((long)rows / GroupRows * pairs * RunBytes);
        for (int r = r0; r < r1; r += GroupRows)
        {
            long g = r / GroupRows;
            for (int i = 0; i < pairs; i++)
            {
                byte* run = dst + (((g * pairs) + i) * RunBytes);
                ushort* sc = (ushort*)(scales + (((g * pairs) + i) * ScaleBytes));
                for (int k = 0; k < GroupRows; k++)
                {
                    byte* b0 = src + ((long)(r - r0 + k) * rowBytes) + (i * 2 * BlockQ4_0.Bytes);
                    byte* b1 = b0 + BlockQ4_0.Bytes;
                    sc[2 * k] = Unsafe.ReadUnaligned<ushort>(b0);
                    sc[(2 * k) + 1] = Unsafe.ReadUnaligned<ushort>(b1);
                    Buffer.MemoryCopy(b0 + 2, run + (k * 32), 16, 16);
                    Buffer.MemoryCopy(b1 + 2, run + (k * 32) + 16, 16, 16);
                }
            }
        }
    }

    /// <summary>Row <paramref name="r"/> back in the file's layout (<paramref name="dst"/>: cols / 32 blocks).</summary>
    public static void Unpack(byte* packed, int rows, int cols, int r, byte* dst)
    {
        int pairs = cols / 64;
        byte* scales = packed + ((long)rows / GroupRows * pairs * RunBytes);
        long g = r / GroupRows;
        int k = r % GroupRows;
        for (int i = 0; i < pairs; i++)
        {
            byte* run = packed + (((g * pairs) + i) * RunBytes) + (k * 32);
            ushort* sc = (ushort*)(scales + (((g * pairs) + i) * ScaleBytes));
            byte* b0 = dst + (i * 2 * BlockQ4_0.Bytes);
            byte* b1 = b0 + BlockQ4_0.Bytes;
            Unsafe.WriteUnaligned(b0, sc[2 * k]);
            Unsafe.WriteUnaligned(b1, sc[(2 * k) + 1]);
            Buffer.MemoryCopy(run, b0 + 2, 16, 16);
            Buffer.MemoryCopy(run + 16, b1 + 2, 16, 16);
        }
    }

    /// <summary>
    /// <c>y[b·yStride + r] = W[r]·x[b]</c> for rows [r0, r1) (multiples of four) and every activation row, x
    /// prepared by <see cref="LegacyGemm.Prepare"/> for Q4_0.
    /// </summary>
    public static void Run(byte* packed, int rows, int cols, byte* prepared, int prepStride, int batch, int r0, int r1, float* y, int yStride)
    {
        int pairs = cols / 64;
        byte* scales = packed + ((long)rows / GroupRows * pairs * RunBytes);
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
                    Tile4x4(packed + (g * pairs * RunBytes), scales + (g * pairs * ScaleBytes), pairs, p0, prepStride, y + ((long)b * yStride) + r, yStride);
                }
            }
            for (; b + 2 <= batch; b += 2)
            {
                byte* p0 = prepared + ((long)b * prepStride);
                for (int r = rb; r < rEnd; r += GroupRows)
                {
                    long g = r / GroupRows;
                    Tile4x2(packed + (g * pairs * RunBytes), scales + (g * pairs * ScaleBytes), pairs, p0, p0 + prepStride, y + ((long)b * yStride) + r, yStride);
                }
            }
            if (b < batch)
            {
                byte* p0 = prepared + ((long)b * prepStride);
                for (int r = rb; r < rEnd; r += GroupRows)
                {
                    long g = r / GroupRows;
                    Tile4x1(packed + (g * pairs * RunBytes), scales + (g * pairs * ScaleBytes), pairs, p0, y + ((long)b * yStride) + r);
                }
            }
        }
    }

    private static Vector512<ulong> FirstRow => Vector512.Create(0UL, 1, 8, 9, 2, 3, 10, 11);

    private static Vector512<ulong> SecondRow => Vector512.Create(4UL, 5, 12, 13, 6, 7, 14, 15);

    /// <summary>Rows 0 and 1 of a 64-byte half run as <see cref="Q4_0Gemm.Load"/> unpacks them: [lo b0 | hi b0 | lo b1 | hi b1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Unpack2(byte* run, out Vector512<byte> first, out Vector512<byte> second)
    {
        Vector512<byte> v = Vector512.Load(run);
        Vector512<ulong> lo = (v & Vector512.Create((byte)0x0F)).AsUInt64();
        Vector512<ulong> hi = (Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & Vector512.Create((byte)0x0F)).AsUInt64();
        first = Avx512F.PermuteVar8x64x2(lo, FirstRow, hi).AsByte();
        second = Avx512F.PermuteVar8x64x2(lo, SecondRow, hi).AsByte();
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
    private static Vector512<float> Step(Vector512<float> acc, Vector512<byte> a, Vector512<float> dx, byte* prepared) =>
        Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Q4_0Gemm.Dot(a, default, prepared)), dx * Vector512.Load((float*)(prepared + 128)), acc);

    private static void Tile4x1(byte* qs, byte* sc, int pairs, byte* p, float* y)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int i = 0; i < pairs; i++)
        {
            byte* run = qs + (i * RunBytes);
            byte* pi = p + (i * LegacyGemm.PairBytes);
            Vector512<float> d8 = Scales8(sc + (i * ScaleBytes));
            Unpack2(run, out var a0, out var a1);
            c0 = Step(c0, a0, Row(d8, 0), pi);
            c1 = Step(c1, a1, Row(d8, 1), pi);
            Unpack2(run + 64, out var a2, out var a3);
            c2 = Step(c2, a2, Row(d8, 2), pi);
            c3 = Step(c3, a3, Row(d8, 3), pi);
        }
        y[0] = Vector512.Sum(c0);
        y[1] = Vector512.Sum(c1);
        y[2] = Vector512.Sum(c2);
        y[3] = Vector512.Sum(c3);
    }

    private static void Tile4x2(byte* qs, byte* sc, int pairs, byte* p, byte* q, float* y, int yStride)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector512<float> e0 = default, e1 = default, e2 = default, e3 = default;
        for (int i = 0; i < pairs; i++)
        {
            byte* run = qs + (i * RunBytes);
            byte* pi = p + (i * LegacyGemm.PairBytes), qi = q + (i * LegacyGemm.PairBytes);
            Vector512<float> d8 = Scales8(sc + (i * ScaleBytes));
            Unpack2(run, out var a0, out var a1);
            Vector512<float> d0 = Row(d8, 0), d1 = Row(d8, 1);
            c0 = Step(c0, a0, d0, pi);
            e0 = Step(e0, a0, d0, qi);
            c1 = Step(c1, a1, d1, pi);
            e1 = Step(e1, a1, d1, qi);
            Unpack2(run + 64, out var a2, out var a3);
            Vector512<float> d2 = Row(d8, 2), d3 = Row(d8, 3);
            c2 = Step(c2, a2, d2, pi);
            e2 = Step(e2, a2, d2, qi);
            c3 = Step(c3, a3, d3, pi);
            e3 = Step(e3, a3, d3, qi);
        }
        y[0] = Vector512.Sum(c0);
        y[1] = Vector512.Sum(c1);
        y[2] = Vector512.Sum(c2);
        y[3] = Vector512.Sum(c3);
        y += yStride;
        y[0] = Vector512.Sum(e0);
        y[1] = Vector512.Sum(e1);
        y[2] = Vector512.Sum(e2);
        y[3] = Vector512.Sum(e3);
    }

    private static void Tile4x4(byte* qs, byte* sc, int pairs, byte* p, nint prepStride, float* y, int yStride)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        for (int i = 0; i < pairs; i++)
        {
            byte* run = qs + (i * RunBytes);
            byte* p0 = p + (i * LegacyGemm.PairBytes), p1 = p0 + prepStride, p2 = p1 + prepStride, p3 = p2 + prepStride;
            Vector512<float> d8 = Scales8(sc + (i * ScaleBytes));
            Unpack2(run, out var a0, out var a1);
            Vector512<float> d = Row(d8, 0);
            c00 = Step(c00, a0, d, p0);
            c01 = Step(c01, a0, d, p1);
            c02 = Step(c02, a0, d, p2);
            c03 = Step(c03, a0, d, p3);
            d = Row(d8, 1);
            c10 = Step(c10, a1, d, p0);
            c11 = Step(c11, a1, d, p1);
            c12 = Step(c12, a1, d, p2);
            c13 = Step(c13, a1, d, p3);
            Unpack2(run + 64, out var a2, out var a3);
            d = Row(d8, 2);
            c20 = Step(c20, a2, d, p0);
            c21 = Step(c21, a2, d, p1);
            c22 = Step(c22, a2, d, p2);
            c23 = Step(c23, a2, d, p3);
            d = Row(d8, 3);
            c30 = Step(c30, a3, d, p0);
            c31 = Step(c31, a3, d, p1);
            c32 = Step(c32, a3, d, p2);
            c33 = Step(c33, a3, d, p3);
        }
        Store4(y, c00, c10, c20, c30);
        Store4(y + yStride, c01, c11, c21, c31);
        Store4(y + (2L * yStride), c02, c12, c22, c32);
        Store4(y + (3L * yStride), c03, c13, c23, c33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(float* y, Vector512<float> r0, Vector512<float> r1, Vector512<float> r2, Vector512<float> r3)
    {
        y[0] = Vector512.Sum(r0);
        y[1] = Vector512.Sum(r1);
        y[2] = Vector512.Sum(r2);
        y[3] = Vector512.Sum(r3);
    }
}
