using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static EdgeAgent.Tensors.Quants.KQuantBlocks;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// GGML Q5_K: 5.5 bits per weight. Like Q4_K (fp16 d, dmin, eight 6-bit scale/min pairs, nibbles in qs) plus a
/// fifth bit per element in qh: element 32s + l of the super-block takes bit s of qh[l] (ggml-common.h block_q5_K).
/// </summary>
public static unsafe class Q5_KFormat
{
    /// <summary>ggml's dequantize_row_q5_K.</summary>
    /// <exception cref="ArgumentException">dst is not whole super-blocks, or src is shorter than they need.</exception>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = KQuantArgs.DequantizeBlocks(src.Length, dst.Length, Q5Bytes, "Q5_K");
        fixed (byte* x = src)
        fixed (float* y = dst)
        {
            KQuantDequant.Dequantize<Q5_KKernel>(x, y, nb);
        }
    }

    /// <summary>ggml's quantize_row_q5_K_ref (what llama.cpp writes without an importance matrix), bit for bit.</summary>
    /// <exception cref="ArgumentException">src is not whole super-blocks, or dst is too short.</exception>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = KQuantArgs.QuantizeBlocks(src.Length, dst.Length, Q5Bytes, "Q5_K");
        fixed (float* x = src)
        fixed (byte* y = dst)
        {
            KQuantAsymmetric.Quantize(x, y, nb, nmax: 31, rmin: -0.5f, rdelta: 0.1f, nstep: 15, Q5Bytes, &PackQ5);
        }
    }

    /// <summary>Dot product of <paramref name="n"/> elements of Q5_K weights with Q8_K activations (SIMD).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is not a non-negative multiple of 256.</exception>
    /// <exception cref="ArgumentException">A row is shorter than <paramref name="n"/> elements need.</exception>
    public static float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        int nb = KQuantArgs.DotBlocks(weights.Length, activations.Length, n, Q5Bytes, "Q5_K");
        fixed (byte* x = weights)
        fixed (byte* y = activations)
        {
            return KQuantDot.Dot<Q5_KKernel>(x, y, nb);
        }
    }

    /// <summary>ggml's scalar ggml_vec_dot_q5_K_q8_K_generic.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is not a non-negative multiple of 256.</exception>
    /// <exception cref="ArgumentException">A row is shorter than <paramref name="n"/> elements need.</exception>
    public static float VecDotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        int nb = KQuantArgs.DotBlocks(weights.Length, activations.Length, n, Q5Bytes, "Q5_K");
        fixed (byte* x = weights)
        fixed (byte* y = activations)
        {
            return Q5_KKernel.DotReference(x, y, nb);
        }
    }

    private static void PackQ5(byte* L, byte* y)
    {
        byte* qh = y + Q5Qh;
        byte* ql = y + Q5Qs;
        new Span<byte>(qh, QK / 8).Clear();
        byte m1 = 1, m2 = 2;
        for (int n = 0; n < QK; n += 64, ql += 32)
        {
            for (int j = 0; j < 32; ++j)
            {
                int l1 = L[n + j];
                if (l1 > 15)
                {
                    l1 -= 16;
                    qh[j] |= m1;
                }
                int l2 = L[n + j + 32];
                if (l2 > 15)
                {
                    l2 -= 16;
                    qh[j] |= m2;
                }
                ql[j] = (byte)(l1 | (l2 << 4));
            }
            m1 <<= 2;
            m2 <<= 2;
        }
    }
}

/// <summary>Q5_K as seen by the generic kernels: 5-bit levels, mins per 32-element sub-block.</summary>
internal readonly unsafe struct Q5_KKernel : IKQuant<Q5_KKernel>
{
    public static int BlockBytes => Q5Bytes;

    public static int Offset => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static KBlockScales Scales(byte* x)
    {
        UnpackScalesK4(x + Q5Scales, out ulong sc, out ulong mins);
        (float d, float dmin) = ReadHalves(x + Q5D); // d and dmin are adjacent
        return Q4_KKernel.ScalesK4(d, dmin, sc, mins);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Unpack128(byte* x, int k)
    {
        int s = k >> 1, half = 16 * (k & 1);
        Vector128<byte> ql = Vector128.Load(x + Q5Qs + 32 * (s >> 1) + half);
        Vector128<byte> qh = Vector128.Load(x + Q5Qh + half);
        Vector128<byte> lo = KBits.Srl(ql, 4 * (s & 1)) & Vector128.Create((byte)0x0F);
        return lo | KBits.Shl(KBits.Srl(qh, s) & Vector128.Create((byte)1), 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Unpack256(byte* x, int k)
    {
        Vector256<byte> ql = Vector256.Load(x + Q5Qs + 32 * (k >> 1));
        Vector256<byte> qh = Vector256.Load(x + Q5Qh);
        Vector256<byte> lo = KBits.Srl(ql, 4 * (k & 1)) & Vector256.Create((byte)0x0F);
        return lo | KBits.Shl(KBits.Srl(qh, k) & Vector256.Create((byte)1), 4);
    }

    // Runs 2k and 2k+1: both nibbles of qs[32k..32k+31], qh bits 2k and 2k+1 (upper half pre-shifted by one).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Unpack512(byte* x, int k)
    {
        Vector256<byte> ql = Vector256.Load(x + Q5Qs + 32 * k);
        Vector256<byte> qh = Vector256.Load(x + Q5Qh);
        Vector512<byte> lo = KBits.Concat(ql, KBits.Srl(ql, 4)) & Vector512.Create((byte)0x0F);
        Vector512<byte> hi = KBits.Srl(KBits.Concat(qh, KBits.Srl(qh, 1)), 2 * k) & Vector512.Create((byte)1);
        return lo | KBits.Shl(hi, 4);
    }

    public static float DotReference(byte* x, byte* y, int nb) =>
        KQuantReference.DotScaleMin(x, y, nb, Q5Bytes, Q5D, Q5DMin, Q5Scales, &UnpackLevels);

    private static void UnpackLevels(byte* x, sbyte* a)
    {
        byte* q4 = x + Q5Qs;
        byte* hm = x + Q5Qh;
        byte m = 1;
        for (int j = 0; j < QK / 64; ++j, q4 += 32, a += 64, m <<= 2)
        {
            for (int l = 0; l < 32; ++l)
            {
                a[l] = (sbyte)((q4[l] & 0xF) + ((hm[l] & m) != 0 ? 16 : 0));
                a[l + 32] = (sbyte)((q4[l] >> 4) + ((hm[l] & (m << 1)) != 0 ? 16 : 0));
            }
        }
    }

    public static void DequantizeReference(byte* x, float* y, int nb)
    {
        for (int i = 0; i < nb; i++, x += Q5Bytes)
        {
            byte* ql = x + Q5Qs;
            byte* qh = x + Q5Qh;
            float d = ReadHalf(x + Q5D);
            float min = ReadHalf(x + Q5DMin);
            int sub = 0;
            int u1 = 1, u2 = 2;
            for (int j = 0; j < QK; j += 64, ql += 32, sub += 2, u1 <<= 2, u2 <<= 2)
            {
                GetScaleMinK4(sub, x + Q5Scales, out byte sc, out byte m);
                float d1 = d * sc;
                float m1 = min * m;
                GetScaleMinK4(sub + 1, x + Q5Scales, out sc, out m);
                float d2 = d * sc;
                float m2 = min * m;
                for (int l = 0; l < 32; ++l)
                {
                    *y++ = d1 * ((ql[l] & 0xF) + ((qh[l] & u1) != 0 ? 16 : 0)) - m1;
                }
                for (int l = 0; l < 32; ++l)
                {
                    *y++ = d2 * ((ql[l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0)) - m2;
                }
            }
        }
    }
}
