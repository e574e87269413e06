using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static EdgeAgent.Tensors.Quants.KQuantBlocks;

namespace EdgeAgent.Tensors.Quants;

/// <summary>Instruction-set tiers of the K-quant kernels, widest first in dispatch order.</summary>
internal enum KIsa
{
    Scalar,
    Vector128,
    Avx2,
    Avx512,
}

/// <summary>
/// The K-quant × Q8_K dot product, generic over the weight format so the JIT specialises one copy per format.
/// Per super-block it forms the exact integer <c>Σ_g scale_g · Σ_{e∈g} u_e·q8_e</c>, then applies the format's
/// offset or mins through the Q8_K group sums (bsums), and scales once by d·y.d, like ggml's x86 kernels.
/// </summary>
/// <remarks>
/// The products are formed with vpmaddubsw (u8×s8 → pairs in int16) and vpmaddwd against the group scales, which
/// folds the per-group scale into the pairwise widening for free. A VNNI vpdpbusd would save the first step but
/// then needs a vpmulld per group for the scale, so it is not used here. (.NET 10 has no Avx512Vnni class: 512-bit
/// vpdpbusd is reachable only through AVX10.2's AvxVnniInt8.V512, and AvxVnni needs the separate AVX-VNNI bit,
/// which AVX-512 VNNI parts such as AMD Zen 4 do not report.)
/// </remarks>
internal static unsafe class KQuantDot
{

    /// <summary>The widest tier this machine runs well.</summary>
    public static KIsa Best { get; } =
        Avx512BW.IsSupported && Vector512.IsHardwareAccelerated ? KIsa.Avx512
        : Avx2.IsSupported ? KIsa.Avx2
        : Vector128.IsHardwareAccelerated ? KIsa.Vector128
        : KIsa.Scalar;

    /// <summary>True when <paramref name="isa"/> can run here (tests run every supported tier).</summary>
    public static bool IsSupported(KIsa isa) => isa switch
    {
        KIsa.Avx512 => Avx512BW.IsSupported,
        KIsa.Avx2 => Avx2.IsSupported,
        _ => true,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot<T>(byte* x, byte* y, int nb) where T : struct, IKQuant<T> => Dot<T>(Best, x, y, nb);

    public static float Dot<T>(KIsa isa, byte* x, byte* y, int nb) where T : struct, IKQuant<T>
    {
        if (isa == KIsa.Avx512 && Avx512BW.IsSupported)
        {
            return Dot512<T>(x, y, nb);
        }
        if (isa >= KIsa.Avx2 && Avx2.IsSupported)
        {
            return Dot256<T>(x, y, nb);
        }
        if (isa >= KIsa.Vector128)
        {
            return Dot128<T>(x, y, nb);
        }
        return T.DotReference(x, y, nb);
    }

    internal static float Dot512<T>(byte* x, byte* y, int nb) where T : struct, IKQuant<T>
    {
        // vpermw indices spreading the 16 group scales over a 64-element step: group 4k+i covers shorts 8i..8i+7.
        Vector512<short> spread = Vector512.Create(
            (short)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        Vector128<float> sum = Vector128<float>.Zero; // lane 0
        // Each block's finish is done after the next block's products (software pipelining, same order of the float
        // operations): in program order the next block's weight loads come before the finish that waits on this
        // block's, so more loads are in flight when the rows stream from memory.
        KBlockScales last = default;
        Vector256<int> lastSums = default, lastGroups = default;
        float lastYd = 0;
        for (int i = 0; i < nb; i++, x += T.BlockBytes, y += Q8Bytes)
        {
            KBlockScales s = T.Scales(x);
            Vector512<short> scales = Avx2.ConvertToVector256Int16(s.Scales).ToVector512Unsafe();
            sbyte* q8 = (sbyte*)(y + Q8Qs);
            // Unrolled by hand with constant steps: the JIT kept the loop, adding the index offset and computing the
            // unpack shifts at run time in every step of every block.
            Vector512<int> acc = Step512<T>(x, q8, scales, spread, 0, Vector512<int>.Zero);
            acc = Step512<T>(x, q8, scales, spread, 1, acc);
            acc = Step512<T>(x, q8, scales, spread, 2, acc);
            acc = Step512<T>(x, q8, scales, spread, 3, acc);
            if (i > 0)
            {
                sum = Finish512<T>(in last, lastSums, lastGroups, lastYd, sum);
            }
            last = s;
            lastSums = acc.GetLower() + acc.GetUpper();
            lastGroups = GroupTerms(Avx2.ConvertToVector256Int16(T.Offset != 0 ? s.Scales : s.Mins), y);
            lastYd = Unsafe.ReadUnaligned<float>(y + Q8D);
        }
        if (nb > 0)
        {
            sum = Finish512<T>(in last, lastSums, lastGroups, lastYd, sum);
        }
        return sum.ToScalar();
    }

    /// <summary>
    /// Adds one super-block to the AVX-512 row dot's float sum (lane 0 of <paramref name="sum"/>) from its exact
    /// integers: isum = Σ of <paramref name="isums"/>' lanes (Σ_g scale_g · Σ u·q8) and groups = Σ of
    /// <paramref name="groups"/>' lanes (Σ_g scale_g · bsum_g for an offset format, Σ_g min_g · bsum_g for one with
    /// mins): <c>(isum − offset·groups)·(y.d·d)</c>, or <c>isum·(y.d·d) − groups·(y.d·dmin)</c>, each a fused
    /// multiply-add. Both sums are formed in one tree and converted without leaving the vector registers (a round trip
    /// through a general register lengthened each block's chain: about a quarter of the decode speed, measured under load). The
    /// tiles do exactly this per output in vector lanes, so they are bit-identical to it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Finish512<T>(in KBlockScales s, Vector256<int> isums, Vector256<int> groups, float yd, Vector128<float> sum)
        where T : struct, IKQuant<T>
    {
        Vector256<int> u = Avx2.UnpackLow(isums, groups) + Avx2.UnpackHigh(isums, groups); // [i, g, i, g] per 128-bit lane
        Vector256<int> v = u + Avx2.Shuffle(u, 0b01_00_11_10);
        Vector128<int> w = v.GetLower() + v.GetUpper(); // lane 0: isum, lane 1: groups
        if (T.Offset != 0)
        {
            Vector128<int> net = w - (Sse2.Shuffle(w, 0b01_01_01_01) * T.Offset);
            return Fma.MultiplyAddScalar(Vector128.ConvertToSingle(net), Vector128.CreateScalarUnsafe(yd * s.D), sum);
        }
        Vector128<float> f = Vector128.ConvertToSingle(w);
        sum = Fma.MultiplyAddScalar(f, Vector128.CreateScalarUnsafe(yd * s.D), sum);
        return Fma.MultiplyAddNegatedScalar(Sse.Shuffle(f, f, 0b01_01_01_01), Vector128.CreateScalarUnsafe(yd * s.DMin), sum);
    }

    /// <summary>Lane j = the sum of all lanes of <paramref name="a0"/>…<paramref name="a3"/>[j], in int32 (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<int> Sums4(Vector512<int> a0, Vector512<int> a1, Vector512<int> a2, Vector512<int> a3)
    {
        // In each 128-bit lane: [a0, a1, a0, a1] partials, then [a0, a1, a2, a3]; then the four lanes added.
        Vector512<int> t01 = Avx512F.UnpackLow(a0, a1) + Avx512F.UnpackHigh(a0, a1);
        Vector512<int> t23 = Avx512F.UnpackLow(a2, a3) + Avx512F.UnpackHigh(a2, a3);
        Vector512<int> u = Avx512F.UnpackLow(t01.AsInt64(), t23.AsInt64()).AsInt32() + Avx512F.UnpackHigh(t01.AsInt64(), t23.AsInt64()).AsInt32();
        Vector256<int> v = u.GetLower() + u.GetUpper();
        return v.GetLower() + v.GetUpper();
    }

    /// <summary>Lane j = the sum of the eight lanes of <paramref name="a0"/>…<paramref name="a3"/>[j] (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<int> Sums4(Vector256<int> a0, Vector256<int> a1, Vector256<int> a2, Vector256<int> a3)
    {
        Vector256<int> t01 = Avx2.UnpackLow(a0, a1) + Avx2.UnpackHigh(a0, a1);
        Vector256<int> t23 = Avx2.UnpackLow(a2, a3) + Avx2.UnpackHigh(a2, a3);
        Vector256<int> u = Avx2.UnpackLow(t01.AsInt64(), t23.AsInt64()).AsInt32() + Avx2.UnpackHigh(t01.AsInt64(), t23.AsInt64()).AsInt32();
        return u.GetLower() + u.GetUpper();
    }

    /// <summary>Σ_g c_g · bsum_g of activation row <paramref name="y"/>, in int32 lanes (to be summed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> GroupTerms(Vector256<short> c, byte* y) => Avx2.MultiplyAddAdjacent(c, Vector256.Load((short*)(y + Q8BSums)));

    /// <summary>
    /// <see cref="Finish512{T}"/> for four or eight outputs at once (lane j = output j): the same integers, products
    /// and fused multiply-adds, so every lane is bit-identical to the row dot.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Finish512x4<T>(in KBlockScales s, Vector128<int> isum, Vector128<int> groups, Vector128<float> yd, Vector128<float> sum)
        where T : struct, IKQuant<T>
    {
        if (T.Offset != 0)
        {
            return Fma.MultiplyAdd(Vector128.ConvertToSingle(isum - (groups * T.Offset)), yd * Vector128.Create(s.D), sum);
        }
        sum = Fma.MultiplyAdd(Vector128.ConvertToSingle(isum), yd * Vector128.Create(s.D), sum);
        return Fma.MultiplyAddNegated(Vector128.ConvertToSingle(groups), yd * Vector128.Create(s.DMin), sum);
    }

    /// <inheritdoc cref="Finish512x4{T}"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Finish512x8<T>(in KBlockScales s, Vector256<int> isum, Vector256<int> groups, Vector256<float> yd, Vector256<float> sum)
        where T : struct, IKQuant<T>
    {
        if (T.Offset != 0)
        {
            return Fma.MultiplyAdd(Vector256.ConvertToSingle(isum - (groups * T.Offset)), yd * Vector256.Create(s.D), sum);
        }
        sum = Fma.MultiplyAdd(Vector256.ConvertToSingle(isum), yd * Vector256.Create(s.D), sum);
        return Fma.MultiplyAddNegated(Vector256.ConvertToSingle(groups), yd * Vector256.Create(s.DMin), sum);
    }

    /// <summary>One 64-element step k of <see cref="Dot512{T}"/>: levels × activations in pairs, times the group scales.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Step512<T>(byte* x, sbyte* q8, Vector512<short> scales, Vector512<short> spread, int k, Vector512<int> acc) where T : struct, IKQuant<T>
    {
        Vector512<short> p = Avx512BW.MultiplyAddAdjacent(T.Unpack512(x, k), Vector512.Load(q8 + 64 * k));
        Vector512<short> sc = Avx512BW.PermuteVar32x16(scales, spread + Vector512.Create((short)(4 * k)));
        return acc + Avx512BW.MultiplyAddAdjacent(p, sc);
    }

    /// <summary>
    /// One weight row against four activation rows (<paramref name="yStride"/> bytes apart) with the AVX-512 kernel:
    /// each super-block's scales and each 64-element unpack are done once for the four. Per output the block's exact
    /// integers are summed across lanes by a transposing tree (output j in lane j), and <see cref="Finish512x4{T}"/>
    /// does <see cref="Finish512{T}"/>'s float operations in those lanes, so <c>result[j]</c> is bit-identical to
    /// <c>Dot512(x, y + j·yStride, nb)</c>. AVX-512 only (see <see cref="Best"/>).
    /// </summary>
    public static void Dot512x4<T>(byte* x, byte* y, nint yStride, int nb, float* result) where T : struct, IKQuant<T>
    {
        Vector512<short> spread = Vector512.Create(
            (short)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        Vector128<float> sum = Vector128<float>.Zero;
        byte* y0 = y, y1 = y + yStride, y2 = y1 + yStride, y3 = y2 + yStride;
        for (int i = 0; i < nb; i++, x += T.BlockBytes, y0 += Q8Bytes, y1 += Q8Bytes, y2 += Q8Bytes, y3 += Q8Bytes)
        {
            KBlockScales s = T.Scales(x);
            Vector512<short> scales = Avx2.ConvertToVector256Int16(s.Scales).ToVector512Unsafe();
            Vector512<int> acc0 = Vector512<int>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
            for (int k = 0; k < 4; k++)
            {
                Vector512<byte> u = T.Unpack512(x, k);
                Vector512<short> sc = Avx512BW.PermuteVar32x16(scales, spread + Vector512.Create((short)(4 * k)));
                int o = Q8Qs + (64 * k);
                acc0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.Load((sbyte*)(y0 + o))), sc);
                acc1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.Load((sbyte*)(y1 + o))), sc);
                acc2 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.Load((sbyte*)(y2 + o))), sc);
                acc3 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.Load((sbyte*)(y3 + o))), sc);
            }
            Vector256<short> c = Avx2.ConvertToVector256Int16(T.Offset != 0 ? s.Scales : s.Mins);
            Vector128<int> groups = Sums4(GroupTerms(c, y0), GroupTerms(c, y1), GroupTerms(c, y2), GroupTerms(c, y3));
            Vector128<float> yd = Vector128.Create(
                Unsafe.ReadUnaligned<float>(y0 + Q8D), Unsafe.ReadUnaligned<float>(y1 + Q8D),
                Unsafe.ReadUnaligned<float>(y2 + Q8D), Unsafe.ReadUnaligned<float>(y3 + Q8D));
            sum = Finish512x4<T>(in s, Sums4(acc0, acc1, acc2, acc3), groups, yd, sum);
        }
        sum.Store(result);
    }

    /// <summary>
    /// <see cref="Dot512x4{T}"/> for eight activation rows: each super-block's scales and unpacked levels serve eight
    /// outputs (prefill). Per output exactly <see cref="Dot512{T}"/>'s operations, so bit-identical to it.
    /// </summary>
    public static void Dot512x8<T>(byte* x, byte* y, nint yStride, int nb, float* result) where T : struct, IKQuant<T>
    {
        Vector512<short> spread = Vector512.Create(
            (short)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        Vector256<float> sum = Vector256<float>.Zero;
        for (int i = 0; i < nb; i++, x += T.BlockBytes, y += Q8Bytes)
        {
            KBlockScales s = T.Scales(x);
            Vector512<short> scales = Avx2.ConvertToVector256Int16(s.Scales).ToVector512Unsafe();
            Vector512<int> acc0 = Vector512<int>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
            Vector512<int> acc4 = acc0, acc5 = acc0, acc6 = acc0, acc7 = acc0;
            StepX8<T>(x, y, yStride, scales, spread, 0, ref acc0, ref acc1, ref acc2, ref acc3, ref acc4, ref acc5, ref acc6, ref acc7);
            StepX8<T>(x, y, yStride, scales, spread, 1, ref acc0, ref acc1, ref acc2, ref acc3, ref acc4, ref acc5, ref acc6, ref acc7);
            StepX8<T>(x, y, yStride, scales, spread, 2, ref acc0, ref acc1, ref acc2, ref acc3, ref acc4, ref acc5, ref acc6, ref acc7);
            StepX8<T>(x, y, yStride, scales, spread, 3, ref acc0, ref acc1, ref acc2, ref acc3, ref acc4, ref acc5, ref acc6, ref acc7);
            Vector256<short> c = Avx2.ConvertToVector256Int16(T.Offset != 0 ? s.Scales : s.Mins);
            Vector128<int> groupsLo = Sums4(GroupTerms(c, y), GroupTerms(c, y + yStride), GroupTerms(c, y + (2 * yStride)), GroupTerms(c, y + (3 * yStride)));
            Vector128<int> groupsHi = Sums4(GroupTerms(c, y + (4 * yStride)), GroupTerms(c, y + (5 * yStride)), GroupTerms(c, y + (6 * yStride)), GroupTerms(c, y + (7 * yStride)));
            Vector256<float> yd = Vector256.Create(
                Unsafe.ReadUnaligned<float>(y + Q8D), Unsafe.ReadUnaligned<float>(y + yStride + Q8D),
                Unsafe.ReadUnaligned<float>(y + (2 * yStride) + Q8D), Unsafe.ReadUnaligned<float>(y + (3 * yStride) + Q8D),
                Unsafe.ReadUnaligned<float>(y + (4 * yStride) + Q8D), Unsafe.ReadUnaligned<float>(y + (5 * yStride) + Q8D),
                Unsafe.ReadUnaligned<float>(y + (6 * yStride) + Q8D), Unsafe.ReadUnaligned<float>(y + (7 * yStride) + Q8D));
            Vector256<int> isum = Vector256.Create(Sums4(acc0, acc1, acc2, acc3), Sums4(acc4, acc5, acc6, acc7));
            sum = Finish512x8<T>(in s, isum, Vector256.Create(groupsLo, groupsHi), yd, sum);
        }
        sum.Store(result);
    }

    /// <summary>One 64-element step k of <see cref="Dot512x8{T}"/> (unrolled by the caller with constant k).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StepX8<T>(
        byte* x, byte* y, nint yStride, Vector512<short> scales, Vector512<short> spread, int k,
        ref Vector512<int> acc0, ref Vector512<int> acc1, ref Vector512<int> acc2, ref Vector512<int> acc3,
        ref Vector512<int> acc4, ref Vector512<int> acc5, ref Vector512<int> acc6, ref Vector512<int> acc7)
        where T : struct, IKQuant<T>
    {
        Vector512<byte> u = T.Unpack512(x, k);
        Vector512<short> sc = Avx512BW.PermuteVar32x16(scales, spread + Vector512.Create((short)(4 * k)));
        byte* o = y + Q8Qs + (64 * k);
        acc0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.Load((sbyte*)o)), sc);
        acc1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.Load((sbyte*)(o + yStride))), sc);
        acc2 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.Load((sbyte*)(o + (2 * yStride)))), sc);
        acc3 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.Load((sbyte*)(o + (3 * yStride)))), sc);
        acc4 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.Load((sbyte*)(o + (4 * yStride)))), sc);
        acc5 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.Load((sbyte*)(o + (5 * yStride)))), sc);
        acc6 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.Load((sbyte*)(o + (6 * yStride)))), sc);
        acc7 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.Load((sbyte*)(o + (7 * yStride)))), sc);
    }

    private static float Dot256<T>(byte* x, byte* y, int nb) where T : struct, IKQuant<T>
    {
        // vpshufb indices picking groups 2k and 2k+1 (eight copies each) for a 32-element step.
        Vector128<sbyte> pair = Vector128.Create((sbyte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
        Vector256<float> sum = Vector256<float>.Zero;
        for (int i = 0; i < nb; i++, x += T.BlockBytes, y += Q8Bytes)
        {
            KBlockScales s = T.Scales(x);
            sbyte* q8 = (sbyte*)(y + Q8Qs);
            Vector256<int> acc = Vector256<int>.Zero;
            for (int k = 0; k < 8; k++)
            {
                Vector256<short> p = Avx2.MultiplyAddAdjacent(T.Unpack256(x, k), Vector256.Load(q8 + 32 * k));
                Vector128<sbyte> sc8 = Ssse3.Shuffle(s.Scales, pair + Vector128.Create((sbyte)(2 * k)));
                acc += Avx2.MultiplyAddAdjacent(p, Avx2.ConvertToVector256Int16(sc8));
            }
            sum = Accumulate<T>(in s, acc, y, sum);
        }
        return Vector256.Sum(sum);
    }

    /// <summary>
    /// Adds one super-block to the float lanes: its eight integer lane sums less the offset term (exact, in int32)
    /// times d·y.d, less the mins term times dmin·y.d. Keeping lanes avoids two horizontal sums per block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Accumulate<T>(in KBlockScales s, Vector256<int> isum, byte* y, Vector256<float> sum)
        where T : struct, IKQuant<T>
    {
        float yd = Unsafe.ReadUnaligned<float>(y + Q8D);
        Vector256<short> bsums = Vector256.Load((short*)(y + Q8BSums));
        if (T.Offset != 0)
        {
            Vector256<int> off = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(s.Scales), bsums) * T.Offset;
            return Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(isum - off), Vector256.Create(s.D * yd), sum);
        }
        Vector256<int> mins = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(s.Mins), bsums);
        sum = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(isum), Vector256.Create(s.D * yd), sum);
        return Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(mins), Vector256.Create(-(s.DMin * yd)), sum);
    }

    // Portable tier (Arm NEON, other 128-bit SIMD): widen to int16, multiply, widen-add to int32.
    private static float Dot128<T>(byte* x, byte* y, int nb) where T : struct, IKQuant<T>
    {
        float sum = 0;
        for (int i = 0; i < nb; i++, x += T.BlockBytes, y += Q8Bytes)
        {
            KBlockScales s = T.Scales(x);
            sbyte* q8 = (sbyte*)(y + Q8Qs);
            Vector128<int> acc = Vector128<int>.Zero;
            for (int k = 0; k < 16; k++)
            {
                (Vector128<ushort> u0, Vector128<ushort> u1) = Vector128.Widen(T.Unpack128(x, k));
                (Vector128<short> q0, Vector128<short> q1) = Vector128.Widen(Vector128.Load(q8 + 16 * k));
                Vector128<short> p = u0.AsInt16() * q0 + u1.AsInt16() * q1; // |p| ≤ 2·63·128, fits int16
                (Vector128<int> p0, Vector128<int> p1) = Vector128.Widen(p);
                acc += (p0 + p1) * Vector128.Create((int)s.Scales.GetElement(k));
            }
            sum += Finish<T>(in s, Vector128.Sum(acc), y);
        }
        return sum;
    }

    /// <summary>Applies the offset or the mins (via bsums) and the float block scales to one super-block's integer sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish<T>(in KBlockScales s, int isum, byte* y) where T : struct, IKQuant<T>
    {
        float yd = Unsafe.ReadUnaligned<float>(y + Q8D);
        short* bsums = (short*)(y + Q8BSums);
        if (T.Offset != 0)
        {
            // Σ sc·(u − off)·q8 = Σ sc·u·q8 − off·Σ_g sc_g·bsum_g, all exact in int32.
            return s.D * yd * (isum - T.Offset * DotBSums(s.Scales, bsums));
        }
        return s.D * yd * isum - s.DMin * yd * DotBSums(s.Mins, bsums);
    }

    /// <summary>Σ_g c_g · bsums[g] over the 16 groups of a Q8_K block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int DotBSums(Vector128<sbyte> c, short* bsums)
    {
        if (Avx2.IsSupported)
        {
            return Vector256.Sum(Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(c), Vector256.Load(bsums)));
        }
        if (Vector128.IsHardwareAccelerated)
        {
            (Vector128<short> c0, Vector128<short> c1) = Vector128.Widen(c);
            (Vector128<int> a, Vector128<int> b) = Vector128.Widen(c0);
            (Vector128<int> e, Vector128<int> f) = Vector128.Widen(c1);
            (Vector128<int> ba, Vector128<int> bb) = Vector128.Widen(Vector128.Load(bsums));
            (Vector128<int> be, Vector128<int> bf) = Vector128.Widen(Vector128.Load(bsums + 8));
            return Vector128.Sum(a * ba + b * bb + e * be + f * bf);
        }
        int sum = 0;
        for (int g = 0; g < 16; g++)
        {
            sum += c.GetElement(g) * bsums[g];
        }
        return sum;
    }
}
