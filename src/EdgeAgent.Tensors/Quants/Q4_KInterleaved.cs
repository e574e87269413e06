using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static EdgeAgent.Tensors.Quants.KQuantBlocks;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// Q4_K with each super-block's 256 levels reordered so that every 64-element step of the AVX-512 kernel holds the
/// same sub-block in the same lanes: byte lane L of step s (s in 0..3) is element <c>32·(L/8) + 8·s + L%8</c>, i.e.
/// eight elements of each of the eight 32-element sub-blocks. Steps 0 and 1 share 64 bytes (low and high nibbles),
/// as do steps 2 and 3; the 16-byte header (d, dmin, the 6-bit scales and mins) is unchanged, so a super-block is
/// still 144 bytes and a matrix takes the file's bytes.
/// </summary>
/// <remarks>
/// <para>Why: the file layout puts sub-blocks 2s and 2s+1 in step s, so each step's u8×s8 pair sums (vpmaddubsw)
/// must be multiplied by their sub-block scales (vpmaddwd) before steps can be added. With every step's lanes in the
/// same sub-blocks, the four steps' pair sums are added in int16 first (each |u0·q0 + u1·q1| ≤ 2·15·128 = 3,840, four
/// of them ≤ 15,360: exact) and scaled once: per 256 products and activation row five multiplies instead of eight.</para>
/// <para>The activations take the same order (<see cref="PermuteActivation"/>: 8-byte units of a Q8_K row's levels
/// moved, its scale and group sums unchanged). Every super-block's integer <c>Σ_g scale_g·Σ u·q8</c> is the same
/// integer as the file layout's and the float finish is <see cref="KQuantDot"/>'s, so every output is bit-identical
/// to <c>KQuantDot.Dot512&lt;Q4_KKernel&gt;</c> on the file layout. AVX-512 only.</para>
/// </remarks>
internal static unsafe class Q4_KInterleaved
{
    /// <summary>True when a <paramref name="type"/> matrix of <paramref name="cols"/> columns takes this layout here.</summary>
    public static bool CanPack(GgmlType type, int cols) =>
        type == GgmlType.Q4_K && cols > 0 && cols % QK == 0 && KQuantDot.Best == KIsa.Avx512;

    /// <summary>Reorders the levels of <paramref name="nb"/> super-blocks from the file layout at <paramref name="src"/> into <paramref name="dst"/>.</summary>
    /// <remarks>In 8-byte units: the file keeps sub-block g's elements in the low (g even) or high (g odd) nibbles of
    /// bytes <c>32·(g/2) + e</c>, so the eight levels of step s of sub-block g are one nibble of eight adjacent bytes.
    /// Unit (h, g) of the copy takes steps 2h (low nibbles) and 2h+1 (high nibbles) of sub-block g.</remarks>
    public static void Pack(byte* src, byte* dst, long nb)
    {
        const ulong Low = 0x0F0F0F0F0F0F0F0FUL;
        for (long i = 0; i < nb; i++, src += Q4Bytes, dst += Q4Bytes)
        {
            new ReadOnlySpan<byte>(src, Q4Qs).CopyTo(new Span<byte>(dst, Q4Qs));
            byte* q = src + Q4Qs;
            ulong* o = (ulong*)(dst + Q4Qs);
            for (int h = 0; h < 2; h++)
            {
                for (int g = 0; g < 8; g++)
                {
                    ulong a = Unsafe.ReadUnaligned<ulong>(q + (32 * (g / 2)) + (16 * h));
                    ulong b = Unsafe.ReadUnaligned<ulong>(q + (32 * (g / 2)) + (16 * h) + 8);
                    o[(8 * h) + g] = (g & 1) == 0 ? (a & Low) | ((b & Low) << 4) : ((a >> 4) & Low) | (b & ~Low);
                }
            }
        }
    }

    /// <summary>The inverse of <see cref="Pack"/> (a row back in the file layout, for dequantization).</summary>
    public static void Unpack(byte* src, byte* dst, long nb)
    {
        for (long i = 0; i < nb; i++, src += Q4Bytes, dst += Q4Bytes)
        {
            new ReadOnlySpan<byte>(src, Q4Qs).CopyTo(new Span<byte>(dst, Q4Qs));
            byte* q = src + Q4Qs, o = dst + Q4Qs;
            for (int s = 0; s < 4; s++)
            {
                for (int lane = 0; lane < 64; lane++)
                {
                    int level = (q[(64 * (s / 2)) + lane] >> (4 * (s % 2))) & 0xF;
                    int e = (32 * (lane / 8)) + (8 * s) + (lane % 8);
                    // File layout: element e is in 64-element chunk e/64, low nibble for its first 32, high for the rest.
                    int chunk = e / 64, within = e % 64;
                    byte* b = o + (32 * chunk) + (within % 32);
                    *b = within < 32 ? (byte)((*b & 0xF0) | level) : (byte)((*b & 0x0F) | (level << 4));
                }
            }
        }
    }

    /// <summary>
    /// Copies <paramref name="nb"/> Q8_K blocks from <paramref name="src"/> to <paramref name="dst"/> with their levels
    /// in the interleaved order (unit s·8 + g of 8 bytes ← unit 4·g + s); scale and group sums as they are.
    /// </summary>
    public static void PermuteActivation(byte* src, byte* dst, int nb)
    {
        for (int i = 0; i < nb; i++, src += Q8Bytes, dst += Q8Bytes)
        {
            *(float*)(dst + Q8D) = *(float*)(src + Q8D);
            ulong* from = (ulong*)(src + Q8Qs), to = (ulong*)(dst + Q8Qs);
            for (int s = 0; s < 4; s++)
            {
                for (int g = 0; g < 8; g++)
                {
                    to[(8 * s) + g] = from[(4 * g) + s];
                }
            }
            new ReadOnlySpan<byte>(src + Q8BSums, Q8Bytes - Q8BSums).CopyTo(new Span<byte>(dst + Q8BSums, Q8Bytes - Q8BSums));
        }
    }

    // vpermw indices: pair lane l (elements 2l, 2l+1) belongs to sub-block l/4, whose scale is at 16-group index 2·(l/4).
    private static Vector512<short> Spread => Vector512.Create(
        (short)0, 0, 0, 0, 2, 2, 2, 2, 4, 4, 4, 4, 6, 6, 6, 6,
        8, 8, 8, 8, 10, 10, 10, 10, 12, 12, 12, 12, 14, 14, 14, 14);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Levels(byte* x, out Vector512<byte> u0, out Vector512<byte> u1, out Vector512<byte> u2, out Vector512<byte> u3)
    {
        Vector512<byte> mask = Vector512.Create((byte)0x0F);
        Vector512<byte> a = Vector512.Load(x + Q4Qs), b = Vector512.Load(x + Q4Qs + 64);
        u0 = a & mask;
        u1 = Vector512.ShiftRightLogical(a.AsUInt16(), 4).AsByte() & mask;
        u2 = b & mask;
        u3 = Vector512.ShiftRightLogical(b.AsUInt16(), 4).AsByte() & mask;
    }

    /// <summary>The sub-block scales of <paramref name="s"/> spread over the 32 pair lanes of a step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> PairScales(in KBlockScales s, Vector512<short> spread) =>
        Avx512BW.PermuteVar32x16(Avx2.ConvertToVector256Int16(s.Scales).ToVector512Unsafe(), spread);

    /// <summary>Lane j: Σ_g min_g · bsum_g of activation row j of the four at <paramref name="y"/> (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> MinTerms4(Vector256<short> mins, byte* y, nint yStride) => KQuantDot.Sums4(
        KQuantDot.GroupTerms(mins, y), KQuantDot.GroupTerms(mins, y + yStride),
        KQuantDot.GroupTerms(mins, y + (2 * yStride)), KQuantDot.GroupTerms(mins, y + (3 * yStride)));

    /// <summary>Lane j: the scale of activation row j of the four at <paramref name="y"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> ActScales4(byte* y, nint yStride) => Vector128.Create(
        Unsafe.ReadUnaligned<float>(y + Q8D), Unsafe.ReadUnaligned<float>(y + yStride + Q8D),
        Unsafe.ReadUnaligned<float>(y + (2 * yStride) + Q8D), Unsafe.ReadUnaligned<float>(y + (3 * yStride) + Q8D));

    /// <summary>Σ over the super-block of scale·u·q8 for one (permuted) activation block, in 16 int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Products(Vector512<byte> u0, Vector512<byte> u1, Vector512<byte> u2, Vector512<byte> u3, byte* y, Vector512<short> sc)
    {
        sbyte* q = (sbyte*)(y + Q8Qs);
        Vector512<short> p = Avx512BW.MultiplyAddAdjacent(u0, Vector512.Load(q))
            + Avx512BW.MultiplyAddAdjacent(u1, Vector512.Load(q + 64))
            + Avx512BW.MultiplyAddAdjacent(u2, Vector512.Load(q + 128))
            + Avx512BW.MultiplyAddAdjacent(u3, Vector512.Load(q + 192));
        return Avx512BW.MultiplyAddAdjacent(p, sc);
    }

    /// <summary>One interleaved row against one permuted activation row: <c>KQuantDot.Dot512&lt;Q4_KKernel&gt;</c>'s result.</summary>
    public static float Dot(byte* x, byte* y, int nb)
    {
        Vector512<short> spread = Spread;
        Vector128<float> sum = Vector128<float>.Zero;
        // Each block's finish after the next block's products, as in KQuantDot.Dot512 (same float operations).
        KBlockScales last = default;
        Vector256<int> lastSums = default, lastGroups = default;
        float lastYd = 0;
        for (int i = 0; i < nb; i++, x += Q4Bytes, y += Q8Bytes)
        {
            KBlockScales s = Q4_KKernel.Scales(x);
            Levels(x, out var u0, out var u1, out var u2, out var u3);
            Vector512<int> acc = Products(u0, u1, u2, u3, y, PairScales(in s, spread));
            if (i > 0)
            {
                sum = KQuantDot.Finish512<Q4_KKernel>(in last, lastSums, lastGroups, lastYd, sum);
            }
            last = s;
            lastSums = acc.GetLower() + acc.GetUpper();
            lastGroups = KQuantDot.GroupTerms(Avx2.ConvertToVector256Int16(s.Mins), y);
            lastYd = Unsafe.ReadUnaligned<float>(y + Q8D);
        }
        if (nb > 0)
        {
            sum = KQuantDot.Finish512<Q4_KKernel>(in last, lastSums, lastGroups, lastYd, sum);
        }
        return sum.ToScalar();
    }

    /// <summary>One interleaved row against four permuted activation rows <paramref name="yStride"/> bytes apart.</summary>
    public static void Dot4(byte* x, byte* y, nint yStride, int nb, float* result)
    {
        Vector512<short> spread = Spread;
        Vector128<float> sum = Vector128<float>.Zero;
        for (int i = 0; i < nb; i++, x += Q4Bytes, y += Q8Bytes)
        {
            KBlockScales s = Q4_KKernel.Scales(x);
            Vector512<short> sc = PairScales(in s, spread);
            Levels(x, out var u0, out var u1, out var u2, out var u3);
            byte* y1 = y + yStride, y2 = y1 + yStride, y3 = y2 + yStride;
            Vector128<int> isum = KQuantDot.Sums4(Products(u0, u1, u2, u3, y, sc), Products(u0, u1, u2, u3, y1, sc), Products(u0, u1, u2, u3, y2, sc), Products(u0, u1, u2, u3, y3, sc));
            Vector128<int> mins = MinTerms4(Avx2.ConvertToVector256Int16(s.Mins), y, yStride);
            sum = KQuantDot.Finish512x4<Q4_KKernel>(in s, isum, mins, ActScales4(y, yStride), sum);
        }
        sum.Store(result);
    }

    /// <summary>One interleaved row against eight permuted activation rows <paramref name="yStride"/> bytes apart (prefill).</summary>
    public static void Dot8(byte* x, byte* y, nint yStride, int nb, float* result)
    {
        Vector512<short> spread = Spread;
        Vector256<float> sum = Vector256<float>.Zero;
        for (int i = 0; i < nb; i++, x += Q4Bytes, y += Q8Bytes)
        {
            KBlockScales s = Q4_KKernel.Scales(x);
            Vector512<short> sc = PairScales(in s, spread);
            Levels(x, out var u0, out var u1, out var u2, out var u3);
            byte* y1 = y + yStride, y2 = y1 + yStride, y3 = y2 + yStride, y4 = y3 + yStride, y5 = y4 + yStride, y6 = y5 + yStride, y7 = y6 + yStride;
            Vector128<int> lo = KQuantDot.Sums4(Products(u0, u1, u2, u3, y, sc), Products(u0, u1, u2, u3, y1, sc), Products(u0, u1, u2, u3, y2, sc), Products(u0, u1, u2, u3, y3, sc));
            Vector128<int> hi = KQuantDot.Sums4(Products(u0, u1, u2, u3, y4, sc), Products(u0, u1, u2, u3, y5, sc), Products(u0, u1, u2, u3, y6, sc), Products(u0, u1, u2, u3, y7, sc));
            Vector256<short> c = Avx2.ConvertToVector256Int16(s.Mins);
            Vector256<int> mins = Vector256.Create(MinTerms4(c, y, yStride), MinTerms4(c, y4, yStride));
            Vector256<float> yd = Vector256.Create(ActScales4(y, yStride), ActScales4(y4, yStride));
            sum = KQuantDot.Finish512x8<Q4_KKernel>(in s, Vector256.Create(lo, hi), mins, yd, sum);
        }
        sum.Store(result);
    }

    /// <summary><c>y[b·yStride + r] = W[r]·q[b]</c> for interleaved rows [r0, r1) and permuted activation rows b &lt; batch
    /// (the loop order of <see cref="KQuantGemm.RunBatch{TDots}"/>).</summary>
    public static void Run(byte* w, int rowBytes, int nb, byte* q, int qStride, int batch, int r0, int r1, float* y, int yStride) =>
        KQuantGemm.RunBatch<Dots>(w, rowBytes, nb, q, qStride, batch, r0, r1, y, yStride);

    private readonly struct Dots : IRowDots
    {
        public static void Dot8(byte* x, byte* y, nint yStride, int nb, float* result) => Q4_KInterleaved.Dot8(x, y, yStride, nb, result);

        public static void Dot4(byte* x, byte* y, nint yStride, int nb, float* result) => Q4_KInterleaved.Dot4(x, y, yStride, nb, result);

        public static float Dot(byte* x, byte* y, int nb) => Q4_KInterleaved.Dot(x, y, nb);
    }
}
