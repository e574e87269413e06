using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// Writes one dequantized block of 32: each format unpacks its quants into 32 signed bytes with portable 128-bit
/// code, and this scales them with the widest tier allowed. The arithmetic is ggml's scalar <c>dequantize_row_*</c>:
/// <c>(float)q * d</c>, then <c>+ m</c> as a separate rounding (never fused), so every tier is bit-identical to scalar.
/// </summary>
internal static unsafe class LegacyDequant
{
    /// <summary>
    /// Stores <c>q * d</c> (plus <paramref name="m"/> when <paramref name="hasMin"/>) for elements 0..15 in
    /// <paramref name="lo"/> and 16..31 in <paramref name="hi"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store32(Vector128<sbyte> lo, Vector128<sbyte> hi, float d, float m, bool hasMin, float* dst, LegacyIsa isa)
    {
        if (isa >= LegacyIsa.Avx512)
        {
            Vector512<float> vd = Vector512.Create(d);
            Vector512<float> a = Vector512.ConvertToSingle(Avx512F.ConvertToVector512Int32(lo)) * vd;
            Vector512<float> b = Vector512.ConvertToSingle(Avx512F.ConvertToVector512Int32(hi)) * vd;
            if (hasMin)
            {
                a += Vector512.Create(m);
                b += Vector512.Create(m);
            }
            a.Store(dst);
            b.Store(dst + 16);
        }
        else if (isa >= LegacyIsa.Avx2)
        {
            Store8(Avx2.ConvertToVector256Int32(lo), d, m, hasMin, dst);
            Store8(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(lo, 8)), d, m, hasMin, dst + 8);
            Store8(Avx2.ConvertToVector256Int32(hi), d, m, hasMin, dst + 16);
            Store8(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(hi, 8)), d, m, hasMin, dst + 24);
        }
        else
        {
            Store16(lo, d, m, hasMin, dst);
            Store16(hi, d, m, hasMin, dst + 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store8(Vector256<int> q, float d, float m, bool hasMin, float* dst)
    {
        Vector256<float> v = Vector256.ConvertToSingle(q) * Vector256.Create(d);
        if (hasMin)
        {
            v += Vector256.Create(m);
        }
        v.Store(dst);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store16(Vector128<sbyte> q, float d, float m, bool hasMin, float* dst)
    {
        Vector128<short> lo = Vector128.WidenLower(q), hi = Vector128.WidenUpper(q);
        Store4(Vector128.WidenLower(lo), d, m, hasMin, dst);
        Store4(Vector128.WidenUpper(lo), d, m, hasMin, dst + 4);
        Store4(Vector128.WidenLower(hi), d, m, hasMin, dst + 8);
        Store4(Vector128.WidenUpper(hi), d, m, hasMin, dst + 12);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(Vector128<int> q, float d, float m, bool hasMin, float* dst)
    {
        Vector128<float> v = Vector128.ConvertToSingle(q) * Vector128.Create(d);
        if (hasMin)
        {
            v += Vector128.Create(m);
        }
        v.Store(dst);
    }
}
