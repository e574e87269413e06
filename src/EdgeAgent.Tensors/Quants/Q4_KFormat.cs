using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static EdgeAgent.Tensors.Quants.KQuantBlocks;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// GGML Q4_K: 4.5 bits per weight. A 256-element super-block holds fp16 d and dmin, eight 6-bit (scale, min) pairs
/// packed in 12 bytes, and 4-bit levels; element = d·scale_j·q − dmin·min_j for its 32-element sub-block j.
/// Sub-blocks 2c and 2c+1 share the 32 bytes qs[32c..32c+31], low nibbles first (ggml-common.h block_q4_K).
/// </summary>
public static unsafe class Q4_KFormat
{
    /// <summary>ggml's dequantize_row_q4_K.</summary>
    /// <exception cref="ArgumentException">dst is not whole super-blocks, or src is shorter than they need.</exception>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = KQuantArgs.DequantizeBlocks(src.Length, dst.Length, Q4Bytes, "Q4_K");
        fixed (byte* x = src)
        fixed (float* y = dst)
        {
            KQuantDequant.Dequantize<Q4_KKernel>(x, y, nb);
        }
    }

    /// <summary>ggml's quantize_row_q4_K_ref (what llama.cpp writes without an importance matrix), bit for bit.</summary>
    /// <exception cref="ArgumentException">src is not whole super-blocks, or dst is too short.</exception>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = KQuantArgs.QuantizeBlocks(src.Length, dst.Length, Q4Bytes, "Q4_K");
        fixed (float* x = src)
        fixed (byte* y = dst)
        {
            KQuantAsymmetric.Quantize(x, y, nb, nmax: 15, rmin: -1f, rdelta: 0.1f, nstep: 20, Q4Bytes, &PackQ4);
        }
    }

    /// <summary>Dot product of <paramref name="n"/> elements of Q4_K weights with Q8_K activations (SIMD).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is not a non-negative multiple of 256.</exception>
    /// <exception cref="ArgumentException">A row is shorter than <paramref name="n"/> elements need.</exception>
    public static float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        int nb = KQuantArgs.DotBlocks(weights.Length, activations.Length, n, Q4Bytes, "Q4_K");
        fixed (byte* x = weights)
        fixed (byte* y = activations)
        {
            return KQuantDot.Dot<Q4_KKernel>(x, y, nb);
        }
    }

    /// <summary>ggml's scalar ggml_vec_dot_q4_K_q8_K_generic.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is not a non-negative multiple of 256.</exception>
    /// <exception cref="ArgumentException">A row is shorter than <paramref name="n"/> elements need.</exception>
    public static float VecDotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        int nb = KQuantArgs.DotBlocks(weights.Length, activations.Length, n, Q4Bytes, "Q4_K");
        fixed (byte* x = weights)
        fixed (byte* y = activations)
        {
            return Q4_KKernel.DotReference(x, y, nb);
        }
    }

    private static void PackQ4(byte* L, byte* y)
    {
        byte* q = y + Q4Qs;
        for (int j = 0; j < QK; j += 64, q += 32)
        {
            for (int l = 0; l < 32; ++l)
            {
                q[l] = (byte)(L[j + l] | (L[j + l + 32] << 4));
            }
        }
    }
}

/// <summary>Q4_K as seen by the generic kernels: levels are the nibbles themselves, mins per sub-block.</summary>
internal readonly unsafe struct Q4_KKernel : IKQuant<Q4_KKernel>
{
    public static int BlockBytes => Q4Bytes;

    public static int Offset => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static KBlockScales Scales(byte* x)
    {
        UnpackScalesK4(x + Q4Scales, out ulong sc, out ulong mins);
        (float d, float dmin) = ReadHalves(x + Q4D); // d and dmin are adjacent
        return ScalesK4(d, dmin, sc, mins);
    }

    /// <summary>Spreads eight 32-element (scale, min) pairs over the sixteen 16-element groups.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static KBlockScales ScalesK4(float d, float dmin, ulong sc, ulong mins)
    {
        Vector128<byte> packed = Vector128.Create(sc, mins).AsByte();
        Vector128<byte> scales = Vector128.Shuffle(packed, Vector128.Create((byte)0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7));
        Vector128<byte> minsx2 = Vector128.Shuffle(packed, Vector128.Create((byte)8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15));
        return new KBlockScales(d, dmin, scales.AsSByte(), minsx2.AsSByte());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Unpack128(byte* x, int k)
    {
        int s = k >> 1; // 32-element sub-block
        Vector128<byte> q = Vector128.Load(x + Q4Qs + 32 * (s >> 1) + 16 * (k & 1));
        return KBits.Srl(q, 4 * (s & 1)) & Vector128.Create((byte)0x0F);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Unpack256(byte* x, int k)
    {
        Vector256<byte> q = Vector256.Load(x + Q4Qs + 32 * (k >> 1));
        return KBits.Srl(q, 4 * (k & 1)) & Vector256.Create((byte)0x0F);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Unpack512(byte* x, int k)
    {
        Vector256<byte> q = Vector256.Load(x + Q4Qs + 32 * k);
        return KBits.Concat(q, KBits.Srl(q, 4)) & Vector512.Create((byte)0x0F);
    }

    public static float DotReference(byte* x, byte* y, int nb) =>
        KQuantReference.DotScaleMin(x, y, nb, Q4Bytes, Q4D, Q4DMin, Q4Scales, &UnpackLevels);

    private static void UnpackLevels(byte* x, sbyte* a)
    {
        byte* q4 = x + Q4Qs;
        for (int j = 0; j < QK / 64; ++j, q4 += 32, a += 64)
        {
            for (int l = 0; l < 32; ++l)
            {
                a[l] = (sbyte)(q4[l] & 0xF);
                a[l + 32] = (sbyte)(q4[l] >> 4);
            }
        }
    }

    public static void DequantizeReference(byte* x, float* y, int nb)
    {
        for (int i = 0; i < nb; i++, x += Q4Bytes)
        {
            byte* q = x + Q4Qs;
            float d = ReadHalf(x + Q4D);
            float min = ReadHalf(x + Q4DMin);
            int sub = 0;
            for (int j = 0; j < QK; j += 64, q += 32, sub += 2)
            {
                GetScaleMinK4(sub, x + Q4Scales, out byte sc, out byte m);
                float d1 = d * sc;
                float m1 = min * m;
                GetScaleMinK4(sub + 1, x + Q4Scales, out sc, out m);
                float d2 = d * sc;
                float m2 = min * m;
                for (int l = 0; l < 32; ++l)
                {
                    *y++ = d1 * (q[l] & 0xF) - m1;
                }
                for (int l = 0; l < 32; ++l)
                {
                    *y++ = d2 * (q[l] >> 4) - m2;
                }
            }
        }
    }
}
