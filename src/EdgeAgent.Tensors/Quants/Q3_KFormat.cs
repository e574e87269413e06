using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static EdgeAgent.Tensors.Quants.KQuantBlocks;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// GGML Q3_K: 3.4375 bits per weight. Levels −4..3 from two bits in qs plus a high bit in hmask (set = no −4),
/// sixteen signed 6-bit scales (value − 32) packed in 12 bytes, fp16 d; element = d·scale·q. Element 32s + l takes
/// bits 2(s mod 4) of qs[32(s/4) + l] and bit s of hmask[l] (ggml-common.h block_q3_K).
/// </summary>
public static unsafe class Q3_KFormat
{
    /// <summary>ggml's dequantize_row_q3_K.</summary>
    /// <exception cref="ArgumentException">dst is not whole super-blocks, or src is shorter than they need.</exception>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = KQuantArgs.DequantizeBlocks(src.Length, dst.Length, Q3Bytes, "Q3_K");
        fixed (byte* x = src)
        fixed (float* y = dst)
        {
            KQuantDequant.Dequantize<Q3_KKernel>(x, y, nb);
        }
    }

    /// <summary>
    /// ggml's quantize_row_q3_K_ref, bit for bit: make_q3_quants(16, 4) per 16 elements, sub-scales quantized to
    /// 6 bits against the one of largest magnitude (iscale = −32/max), then the levels requantized.
    /// </summary>
    /// <exception cref="ArgumentException">src is not whole super-blocks, or dst is too short.</exception>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = KQuantArgs.QuantizeBlocks(src.Length, dst.Length, Q3Bytes, "Q3_K");
        fixed (float* xp = src)
        fixed (byte* yp = dst)
        {
            float* x = xp;
            byte* y = yp;
            sbyte* L = stackalloc sbyte[QK];
            float* scales = stackalloc float[QK / 16];
            for (int i = 0; i < nb; i++, x += QK, y += Q3Bytes)
            {
                float maxScale = 0;
                float amax = 0;
                for (int j = 0; j < QK / 16; ++j)
                {
                    scales[j] = KQuantSearch.MakeQ3Quants(16, 4, x + 16 * j, L + 16 * j);
                    float scale = MathF.Abs(scales[j]);
                    if (scale > amax)
                    {
                        amax = scale;
                        maxScale = scales[j];
                    }
                }

                byte* sc = y + Q3Scales;
                new Span<byte>(sc, 12).Clear();
                if (maxScale != 0f)
                {
                    float iscale = -32f / maxScale;
                    for (int j = 0; j < QK / 16; ++j)
                    {
                        // C stores nearest_int in an int8_t before clamping; the value is within ±32 anyway.
                        int l = Math.Max(-32, Math.Min(31, (int)unchecked((sbyte)NearestInt(iscale * scales[j])))) + 32;
                        if (j < 8)
                        {
                            sc[j] = (byte)(l & 0xF);
                        }
                        else
                        {
                            sc[j - 8] |= (byte)((l & 0xF) << 4);
                        }
                        l >>= 4;
                        sc[j % 4 + 8] |= (byte)(l << (2 * (j / 4)));
                    }
                    WriteHalf(y + Q3D, 1 / iscale);
                }
                else
                {
                    WriteHalf(y + Q3D, 0f);
                }

                float dAll = ReadHalf(y + Q3D);
                for (int j = 0; j < QK / 16; ++j)
                {
                    int s = j < 8 ? sc[j] & 0xF : sc[j - 8] >> 4;
                    s = (s | (((sc[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
                    float d = dAll * s;
                    if (d == 0f)
                    {
                        continue;
                    }
                    for (int ii = 0; ii < 16; ++ii)
                    {
                        int l = Math.Max(-4, Math.Min(3, NearestInt(x[16 * j + ii] / d)));
                        L[16 * j + ii] = (sbyte)(l + 4);
                    }
                }

                // High bit of the first 32 levels goes to bit 0 of hmask[0..31], the next 32 to bit 1, and so on.
                byte* hmask = y + Q3HMask;
                new Span<byte>(hmask, QK / 8).Clear();
                int m = 0;
                byte hm = 1;
                for (int j = 0; j < QK; ++j)
                {
                    if (L[j] > 3)
                    {
                        hmask[m] |= hm;
                        L[j] -= 4;
                    }
                    if (++m == QK / 8)
                    {
                        m = 0;
                        hm <<= 1;
                    }
                }
                KQuantPack.Pack2Bit((byte*)L, y + Q3Qs);
            }
        }
    }

    /// <summary>Dot product of <paramref name="n"/> elements of Q3_K weights with Q8_K activations (SIMD).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is not a non-negative multiple of 256.</exception>
    /// <exception cref="ArgumentException">A row is shorter than <paramref name="n"/> elements need.</exception>
    public static float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        int nb = KQuantArgs.DotBlocks(weights.Length, activations.Length, n, Q3Bytes, "Q3_K");
        fixed (byte* x = weights)
        fixed (byte* y = activations)
        {
            return KQuantDot.Dot<Q3_KKernel>(x, y, nb);
        }
    }

    /// <summary>ggml's scalar ggml_vec_dot_q3_K_q8_K_generic.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is not a non-negative multiple of 256.</exception>
    /// <exception cref="ArgumentException">A row is shorter than <paramref name="n"/> elements need.</exception>
    public static float VecDotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        int nb = KQuantArgs.DotBlocks(weights.Length, activations.Length, n, Q3Bytes, "Q3_K");
        fixed (byte* x = weights)
        fixed (byte* y = activations)
        {
            return Q3_KKernel.DotReference(x, y, nb);
        }
    }
}

/// <summary>Q3_K as seen by the generic kernels: level + 4 as an unsigned 3-bit value, offset 4.</summary>
internal readonly unsafe struct Q3_KKernel : IKQuant<Q3_KKernel>
{
    public static int BlockBytes => Q3Bytes;

    public static int Offset => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static KBlockScales Scales(byte* x)
    {
        UnpackScalesQ3(x + Q3Scales, out uint a0, out uint a1, out uint a2, out uint a3);
        Vector128<sbyte> scales = Vector128.Create(a0, a1, a2, a3).AsSByte() - Vector128.Create((sbyte)32);
        return new KBlockScales(ReadHalf(x + Q3D), 0f, scales, Vector128<sbyte>.Zero);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Unpack128(byte* x, int k)
    {
        int s = k >> 1, half = 16 * (k & 1);
        Vector128<byte> q = Vector128.Load(x + Q3Qs + 32 * (s >> 2) + half);
        Vector128<byte> hm = Vector128.Load(x + Q3HMask + half);
        Vector128<byte> lo = KBits.Srl(q, 2 * (s & 3)) & Vector128.Create((byte)3);
        return lo | KBits.Shl(KBits.Srl(hm, s) & Vector128.Create((byte)1), 2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Unpack256(byte* x, int k)
    {
        Vector256<byte> q = Vector256.Load(x + Q3Qs + 32 * (k >> 2));
        Vector256<byte> hm = Vector256.Load(x + Q3HMask);
        Vector256<byte> lo = KBits.Srl(q, 2 * (k & 3)) & Vector256.Create((byte)3);
        return lo | KBits.Shl(KBits.Srl(hm, k) & Vector256.Create((byte)1), 2);
    }

    // Runs 2k and 2k+1: bit pairs 2(k mod 2), +1 of qs[32(k/2)..] and hmask bits 2k, 2k+1 (upper halves pre-shifted).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Unpack512(byte* x, int k)
    {
        Vector256<byte> q = Vector256.Load(x + Q3Qs + 32 * (k >> 1));
        Vector256<byte> hm = Vector256.Load(x + Q3HMask);
        Vector512<byte> lo = KBits.Srl(KBits.Concat(q, KBits.Srl(q, 2)), 4 * (k & 1)) & Vector512.Create((byte)3);
        Vector512<byte> hi = KBits.Srl(KBits.Concat(hm, KBits.Srl(hm, 1)), 2 * k) & Vector512.Create((byte)1);
        return lo | KBits.Shl(hi, 2);
    }

    public static float DotReference(byte* x, byte* y, int nb) =>
        KQuantReference.DotSymmetric(x, y, nb, Q3Bytes, Q3D, &UnpackLevels, &UnpackScales);

    private static void UnpackLevels(byte* x, sbyte* a)
    {
        byte* q3 = x + Q3Qs;
        byte* hm = x + Q3HMask;
        int m = 1;
        for (int j = 0; j < QK; j += 128, q3 += 32)
        {
            for (int shift = 0; shift < 8; shift += 2, a += 32, m <<= 1)
            {
                for (int l = 0; l < 32; ++l)
                {
                    a[l] = (sbyte)(((q3[l] >> shift) & 3) - ((hm[l] & m) != 0 ? 0 : 4));
                }
            }
        }
    }

    private static void UnpackScales(byte* x, int* scale16)
    {
        UnpackScalesQ3(x + Q3Scales, out uint a0, out uint a1, out uint a2, out uint a3);
        for (int j = 0; j < 4; ++j)
        {
            int shift = 8 * j;
            scale16[j] = (int)((a0 >> shift) & 0xFF) - 32;
            scale16[j + 4] = (int)((a1 >> shift) & 0xFF) - 32;
            scale16[j + 8] = (int)((a2 >> shift) & 0xFF) - 32;
            scale16[j + 12] = (int)((a3 >> shift) & 0xFF) - 32;
        }
    }

    public static void DequantizeReference(byte* x, float* y, int nb)
    {
        int* scales = stackalloc int[16];
        for (int i = 0; i < nb; i++, x += Q3Bytes)
        {
            float dAll = ReadHalf(x + Q3D);
            byte* q = x + Q3Qs;
            byte* hm = x + Q3HMask;
            UnpackScales(x, scales);
            int m = 1, g = 0;
            for (int n = 0; n < QK; n += 128, q += 32)
            {
                for (int shift = 0; shift < 8; shift += 2, m <<= 1)
                {
                    float dl = dAll * scales[g++];
                    for (int l = 0; l < 16; ++l)
                    {
                        *y++ = dl * (((q[l] >> shift) & 3) - ((hm[l] & m) != 0 ? 0 : 4));
                    }
                    dl = dAll * scales[g++];
                    for (int l = 16; l < 32; ++l)
                    {
                        *y++ = dl * (((q[l] >> shift) & 3) - ((hm[l] & m) != 0 ? 0 : 4));
                    }
                }
            }
        }
    }
}
