using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static EdgeAgent.Tensors.Quants.KQuantBlocks;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// GGML Q6_K: 6.5625 bits per weight. A super-block holds 6-bit levels (low 4 bits in ql, high 2 bits in qh),
/// one int8 scale per 16 elements and an fp16 d; element = d·scale·(q − 32). Each 128-element half uses 64 ql and
/// 32 qh bytes: elements l, l+32, l+64, l+96 take the low/high nibbles of ql[l], ql[l+32] and bit pairs 0..3 of
/// qh[l] (ggml-common.h block_q6_K).
/// </summary>
public static unsafe class Q6_KFormat
{
    /// <summary>ggml's dequantize_row_q6_K.</summary>
    /// <exception cref="ArgumentException">dst is not whole super-blocks, or src is shorter than they need.</exception>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = KQuantArgs.DequantizeBlocks(src.Length, dst.Length, Q6Bytes, "Q6_K");
        fixed (byte* x = src)
        fixed (float* y = dst)
        {
            KQuantDequant.Dequantize<Q6_KKernel>(x, y, nb);
        }
    }

    /// <summary>
    /// ggml's quantize_row_q6_K_ref, bit for bit: make_qx_quants(16, 32) per 16 elements, the sub-scales quantized
    /// to int8 against the one of largest magnitude (iscale = −128/max), then the levels requantized.
    /// </summary>
    /// <exception cref="ArgumentException">src is not whole super-blocks, or dst is too short.</exception>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = KQuantArgs.QuantizeBlocks(src.Length, dst.Length, Q6Bytes, "Q6_K");
        fixed (float* xp = src)
        fixed (byte* yp = dst)
        {
            float* x = xp;
            byte* y = yp;
            sbyte* L = stackalloc sbyte[QK];
            float* scales = stackalloc float[QK / 16];
            for (int i = 0; i < nb; i++, x += QK, y += Q6Bytes)
            {
                float maxScale = 0;
                float maxAbsScale = 0;
                for (int ib = 0; ib < QK / 16; ++ib)
                {
                    float scale = KQuantSearch.MakeQxQuants(16, 32, x + 16 * ib, L + 16 * ib, null);
                    scales[ib] = scale;
                    float absScale = MathF.Abs(scale);
                    if (absScale > maxAbsScale)
                    {
                        maxAbsScale = absScale;
                        maxScale = scale;
                    }
                }
                if (maxAbsScale < GroupMaxEps)
                {
                    new Span<byte>(y, Q6Bytes).Clear();
                    continue;
                }

                float iscale = -128f / maxScale;
                WriteHalf(y + Q6D, 1 / iscale);
                sbyte* sc = (sbyte*)(y + Q6Scales);
                for (int ib = 0; ib < QK / 16; ++ib)
                {
                    sc[ib] = unchecked((sbyte)Math.Min(127, NearestInt(iscale * scales[ib])));
                }

                float dAll = ReadHalf(y + Q6D);
                for (int j = 0; j < QK / 16; ++j)
                {
                    float d = dAll * sc[j];
                    if (d == 0f)
                    {
                        continue;
                    }
                    for (int ii = 0; ii < 16; ++ii)
                    {
                        int l = Math.Max(-32, Math.Min(31, NearestInt(x[16 * j + ii] / d)));
                        L[16 * j + ii] = (sbyte)(l + 32);
                    }
                }

                byte* ql = y + Q6Ql;
                byte* qh = y + Q6Qh;
                for (int j = 0; j < QK; j += 128, ql += 64, qh += 32)
                {
                    for (int l = 0; l < 32; ++l)
                    {
                        int q1 = L[j + l], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
                        ql[l] = (byte)((q1 & 0xF) | ((q3 & 0xF) << 4));
                        ql[l + 32] = (byte)((q2 & 0xF) | ((q4 & 0xF) << 4));
                        qh[l] = (byte)((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
                    }
                }
            }
        }
    }

    /// <summary>Dot product of <paramref name="n"/> elements of Q6_K weights with Q8_K activations (SIMD).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is not a non-negative multiple of 256.</exception>
    /// <exception cref="ArgumentException">A row is shorter than <paramref name="n"/> elements need.</exception>
    public static float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        int nb = KQuantArgs.DotBlocks(weights.Length, activations.Length, n, Q6Bytes, "Q6_K");
        fixed (byte* x = weights)
        fixed (byte* y = activations)
        {
            return KQuantDot.Dot<Q6_KKernel>(x, y, nb);
        }
    }

    /// <summary>ggml's scalar ggml_vec_dot_q6_K_q8_K_generic.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is not a non-negative multiple of 256.</exception>
    /// <exception cref="ArgumentException">A row is shorter than <paramref name="n"/> elements need.</exception>
    public static float VecDotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        int nb = KQuantArgs.DotBlocks(weights.Length, activations.Length, n, Q6Bytes, "Q6_K");
        fixed (byte* x = weights)
        fixed (byte* y = activations)
        {
            return Q6_KKernel.DotReference(x, y, nb);
        }
    }
}

/// <summary>Q6_K as seen by the generic kernels: unsigned 6-bit levels, offset 32, int8 scale per 16 elements.</summary>
internal readonly unsafe struct Q6_KKernel : IKQuant<Q6_KKernel>
{
    public static int BlockBytes => Q6Bytes;

    public static int Offset => 32;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static KBlockScales Scales(byte* x) =>
        new(ReadHalf(x + Q6D), 0f, Vector128.Load((sbyte*)(x + Q6Scales)), Vector128<sbyte>.Zero);

    // 32-element run k of the block: half h = k/4 (64 ql, 32 qh bytes), m = k%4 picks ql[0..31] or ql[32..63]
    // (m & 1), the nibble (m >> 1) and the qh bit pair m.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Unpack128(byte* x, int k)
    {
        int run = k >> 1, half = 16 * (k & 1);
        int h = run >> 2, m = run & 3;
        Vector128<byte> ql = Vector128.Load(x + Q6Ql + 64 * h + 32 * (m & 1) + half);
        Vector128<byte> qh = Vector128.Load(x + Q6Qh + 32 * h + half);
        Vector128<byte> lo = KBits.Srl(ql, 4 * (m >> 1)) & Vector128.Create((byte)0x0F);
        Vector128<byte> hi = KBits.Shl(KBits.Srl(qh, 2 * m) & Vector128.Create((byte)3), 4);
        return lo | hi;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Unpack256(byte* x, int k)
    {
        int h = k >> 2, m = k & 3;
        Vector256<byte> ql = Vector256.Load(x + Q6Ql + 64 * h + 32 * (m & 1));
        Vector256<byte> qh = Vector256.Load(x + Q6Qh + 32 * h);
        Vector256<byte> lo = KBits.Srl(ql, 4 * (m >> 1)) & Vector256.Create((byte)0x0F);
        Vector256<byte> hi = KBits.Shl(KBits.Srl(qh, 2 * m) & Vector256.Create((byte)3), 4);
        return lo | hi;
    }

    // 64-element step k: all 64 ql bytes of half k/2 (low nibbles for even k, high for odd), with qh bit pairs
    // (0, 1) or (2, 3); the upper 256 bits take qh pre-shifted by 2 so one shift serves both runs.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Unpack512(byte* x, int k)
    {
        int h = k >> 1, nib = 4 * (k & 1);
        Vector512<byte> ql = Vector512.Load(x + Q6Ql + 64 * h);
        Vector256<byte> qh = Vector256.Load(x + Q6Qh + 32 * h);
        Vector512<byte> lo = KBits.Srl(ql, nib) & Vector512.Create((byte)0x0F);
        Vector512<byte> hi = KBits.Srl(KBits.Concat(qh, KBits.Srl(qh, 2)), nib) & Vector512.Create((byte)3);
        return lo | KBits.Shl(hi, 4);
    }

    public static float DotReference(byte* x, byte* y, int nb) =>
        KQuantReference.DotSymmetric(x, y, nb, Q6Bytes, Q6D, &UnpackLevels, &UnpackScales);

    private static void UnpackLevels(byte* x, sbyte* a)
    {
        byte* q4 = x + Q6Ql;
        byte* qh = x + Q6Qh;
        for (int j = 0; j < QK; j += 128, a += 128, q4 += 64, qh += 32)
        {
            for (int l = 0; l < 32; ++l)
            {
                a[l] = (sbyte)(((q4[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
                a[l + 32] = (sbyte)(((q4[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                a[l + 64] = (sbyte)(((q4[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                a[l + 96] = (sbyte)(((q4[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
    }

    private static void UnpackScales(byte* x, int* scale16)
    {
        sbyte* sc = (sbyte*)(x + Q6Scales);
        for (int j = 0; j < 16; ++j)
        {
            scale16[j] = sc[j];
        }
    }

    public static void DequantizeReference(byte* x, float* y, int nb)
    {
        for (int i = 0; i < nb; i++, x += Q6Bytes)
        {
            float d = ReadHalf(x + Q6D);
            byte* ql = x + Q6Ql;
            byte* qh = x + Q6Qh;
            sbyte* sc = (sbyte*)(x + Q6Scales);
            for (int n = 0; n < QK; n += 128, y += 128, ql += 64, qh += 32, sc += 8)
            {
                for (int l = 0; l < 32; ++l)
                {
                    int g = l / 16;
                    int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    y[l] = d * sc[g] * q1;
                    y[l + 32] = d * sc[g + 2] * q2;
                    y[l + 64] = d * sc[g + 4] * q3;
                    y[l + 96] = d * sc[g + 6] * q4;
                }
            }
        }
    }
}
