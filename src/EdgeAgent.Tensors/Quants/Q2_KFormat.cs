using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static EdgeAgent.Tensors.Quants.KQuantBlocks;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// GGML Q2_K: 2.625 bits per weight. 2-bit levels, a 4-bit scale and 4-bit min per 16 elements (one byte each),
/// fp16 d and dmin; element = d·scale·q − dmin·min. Element 32s + l takes bits 2(s mod 4) of qs[32(s/4) + l]
/// (ggml-common.h block_q2_K).
/// </summary>
public static unsafe class Q2_KFormat
{
    /// <summary>ggml's dequantize_row_q2_K.</summary>
    /// <exception cref="ArgumentException">dst is not whole super-blocks, or src is shorter than they need.</exception>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = KQuantArgs.DequantizeBlocks(src.Length, dst.Length, Q2Bytes, "Q2_K");
        fixed (byte* x = src)
        fixed (float* y = dst)
        {
            KQuantDequant.Dequantize<Q2_KKernel>(x, y, nb);
        }
    }

    /// <summary>
    /// ggml's quantize_row_q2_K_ref, bit for bit: make_qkx2_quants(16, 3) per 16 elements with weights |x| and
    /// absolute-error fitting, 4-bit scales and mins against their maxima (q4scale = 15), then requantization.
    /// </summary>
    /// <exception cref="ArgumentException">src is not whole super-blocks, or dst is too short.</exception>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = KQuantArgs.QuantizeBlocks(src.Length, dst.Length, Q2Bytes, "Q2_K");
        fixed (float* xp = src)
        fixed (byte* yp = dst)
        {
            float* x = xp;
            byte* y = yp;
            byte* L = stackalloc byte[QK];
            byte* laux = stackalloc byte[16];
            float* weights = stackalloc float[16];
            float* mins = stackalloc float[QK / 16];
            float* scales = stackalloc float[QK / 16];
            const float q4scale = 15f;
            for (int i = 0; i < nb; i++, x += QK, y += Q2Bytes)
            {
                float maxScale = 0;
                float maxMin = 0;
                for (int j = 0; j < QK / 16; ++j)
                {
                    for (int l = 0; l < 16; ++l)
                    {
                        weights[l] = MathF.Abs(x[16 * j + l]);
                    }
                    scales[j] = KQuantSearch.MakeQkx2Quants(16, 3, x + 16 * j, weights, L + 16 * j, out mins[j], laux, -0.5f, 0.1f, 15, true);
                    if (scales[j] > maxScale)
                    {
                        maxScale = scales[j];
                    }
                    if (mins[j] > maxMin)
                    {
                        maxMin = mins[j];
                    }
                }

                byte* sc = y + Q2Scales;
                if (maxScale > 0)
                {
                    float iscale = q4scale / maxScale;
                    for (int j = 0; j < QK / 16; ++j)
                    {
                        sc[j] = unchecked((byte)NearestInt(iscale * scales[j]));
                    }
                    WriteHalf(y + Q2D, maxScale / q4scale);
                }
                else
                {
                    new Span<byte>(sc, QK / 16).Clear();
                    WriteHalf(y + Q2D, 0f);
                }
                if (maxMin > 0)
                {
                    float iscale = q4scale / maxMin;
                    for (int j = 0; j < QK / 16; ++j)
                    {
                        sc[j] |= unchecked((byte)(NearestInt(iscale * mins[j]) << 4));
                    }
                    WriteHalf(y + Q2DMin, maxMin / q4scale);
                }
                else
                {
                    WriteHalf(y + Q2DMin, 0f);
                }

                float dAll = ReadHalf(y + Q2D);
                float mAll = ReadHalf(y + Q2DMin);
                for (int j = 0; j < QK / 16; ++j)
                {
                    float d = dAll * (sc[j] & 0xF);
                    if (d == 0f)
                    {
                        continue;
                    }
                    float dm = mAll * (sc[j] >> 4);
                    for (int ii = 0; ii < 16; ++ii)
                    {
                        int l = NearestInt((x[16 * j + ii] + dm) / d);
                        L[16 * j + ii] = (byte)Math.Max(0, Math.Min(3, l));
                    }
                }
                KQuantPack.Pack2Bit(L, y + Q2Qs);
            }
        }
    }

    /// <summary>Dot product of <paramref name="n"/> elements of Q2_K weights with Q8_K activations (SIMD).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is not a non-negative multiple of 256.</exception>
    /// <exception cref="ArgumentException">A row is shorter than <paramref name="n"/> elements need.</exception>
    public static float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        int nb = KQuantArgs.DotBlocks(weights.Length, activations.Length, n, Q2Bytes, "Q2_K");
        fixed (byte* x = weights)
        fixed (byte* y = activations)
        {
            return KQuantDot.Dot<Q2_KKernel>(x, y, nb);
        }
    }

    /// <summary>ggml's scalar ggml_vec_dot_q2_K_q8_K_generic.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is not a non-negative multiple of 256.</exception>
    /// <exception cref="ArgumentException">A row is shorter than <paramref name="n"/> elements need.</exception>
    public static float VecDotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        int nb = KQuantArgs.DotBlocks(weights.Length, activations.Length, n, Q2Bytes, "Q2_K");
        fixed (byte* x = weights)
        fixed (byte* y = activations)
        {
            return Q2_KKernel.DotReference(x, y, nb);
        }
    }
}

/// <summary>Q2_K as seen by the generic kernels: 2-bit levels, 4-bit scale and min per 16 elements.</summary>
internal readonly unsafe struct Q2_KKernel : IKQuant<Q2_KKernel>
{
    public static int BlockBytes => Q2Bytes;

    public static int Offset => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static KBlockScales Scales(byte* x)
    {
        Vector128<byte> packed = Vector128.Load(x + Q2Scales);
        Vector128<byte> low = Vector128.Create((byte)0x0F);
        (float d, float dmin) = ReadHalves(x + Q2D); // d and dmin are adjacent
        return new KBlockScales(d, dmin, (packed & low).AsSByte(), (KBits.Srl(packed, 4) & low).AsSByte());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Unpack128(byte* x, int k)
    {
        int s = k >> 1;
        Vector128<byte> q = Vector128.Load(x + Q2Qs + 32 * (s >> 2) + 16 * (k & 1));
        return KBits.Srl(q, 2 * (s & 3)) & Vector128.Create((byte)3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Unpack256(byte* x, int k)
    {
        Vector256<byte> q = Vector256.Load(x + Q2Qs + 32 * (k >> 2));
        return KBits.Srl(q, 2 * (k & 3)) & Vector256.Create((byte)3);
    }

    // Runs 2k and 2k+1 share qs[32(k/2)..]: bit pairs 2(k mod 2) and 2(k mod 2)+1 (upper half pre-shifted by 2).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Unpack512(byte* x, int k)
    {
        Vector256<byte> q = Vector256.Load(x + Q2Qs + 32 * (k >> 1));
        return KBits.Srl(KBits.Concat(q, KBits.Srl(q, 2)), 4 * (k & 1)) & Vector512.Create((byte)3);
    }

    public static float DotReference(byte* x, byte* y, int nb)
    {
        float sumf = 0;
        for (int i = 0; i < nb; ++i, x += Q2Bytes, y += Q8Bytes)
        {
            byte* q2 = x + Q2Qs;
            sbyte* q8 = (sbyte*)(y + Q8Qs);
            byte* sc = x + Q2Scales;
            short* bsums = (short*)(y + Q8BSums);
            int summs = 0;
            for (int j = 0; j < 16; ++j)
            {
                summs += bsums[j] * (sc[j] >> 4);
            }
            float yd = Unsafe.ReadUnaligned<float>(y + Q8D);
            float dall = yd * ReadHalf(x + Q2D);
            float dmin = yd * ReadHalf(x + Q2DMin);
            int isum = 0;
            int g = 0;
            for (int k = 0; k < QK / 128; ++k, q2 += 32)
            {
                for (int shift = 0; shift < 8; shift += 2, q8 += 32)
                {
                    int d = sc[g++] & 0xF;
                    int isuml = 0;
                    for (int l = 0; l < 16; ++l)
                    {
                        isuml += q8[l] * ((q2[l] >> shift) & 3);
                    }
                    isum += d * isuml;
                    d = sc[g++] & 0xF;
                    isuml = 0;
                    for (int l = 16; l < 32; ++l)
                    {
                        isuml += q8[l] * ((q2[l] >> shift) & 3);
                    }
                    isum += d * isuml;
                }
            }
            sumf += dall * isum - dmin * summs;
        }
        return sumf;
    }

    public static void DequantizeReference(byte* x, float* y, int nb)
    {
        for (int i = 0; i < nb; i++, x += Q2Bytes)
        {
            float d = ReadHalf(x + Q2D);
            float min = ReadHalf(x + Q2DMin);
            byte* q = x + Q2Qs;
            int g = 0;
            for (int n = 0; n < QK; n += 128, q += 32)
            {
                for (int shift = 0; shift < 8; shift += 2)
                {
                    int sc = x[Q2Scales + g++];
                    float dl = d * (sc & 0xF);
                    float ml = min * (sc >> 4);
                    for (int l = 0; l < 16; ++l)
                    {
                        *y++ = dl * ((q[l] >> shift) & 3) - ml;
                    }
                    sc = x[Q2Scales + g++];
                    dl = d * (sc & 0xF);
                    ml = min * (sc >> 4);
                    for (int l = 0; l < 16; ++l)
                    {
                        *y++ = dl * ((q[l + 16] >> shift) & 3) - ml;
                    }
                }
            }
        }
    }
}
