using System.Runtime.Intrinsics;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// GGML_TYPE_Q4_1: blocks of 32 as fp16 <c>d</c> and <c>m</c> and 4-bit quants, <c>x = q * d + m</c>
/// (<c>block_q4_1</c>, 20 bytes). The dot pairs with Q8_1 activations, whose <c>s</c> carries the <c>m</c> term.
/// </summary>
public static class Q4_1Format
{
    /// <summary>Dequantizes <c>dst.Length / 32</c> blocks (ggml's <c>dequantize_row_q4_1</c>, bit for bit).</summary>
    /// <exception cref="ArgumentException"><c>dst.Length</c> is not a multiple of 32, or <paramref name="src"/> is too short.</exception>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => Dequantize(src, dst, LegacyIsas.Best);

    /// <summary>
    /// ggml's <c>quantize_row_q4_1_ref</c>: <c>m = min</c>, <c>d = (max - min) / 15</c>,
    /// <c>q = min(15, (int)((x - min) / d + 0.5))</c>.
    /// </summary>
    /// <exception cref="ArgumentException"><c>src.Length</c> is not a multiple of 32, or <paramref name="dst"/> is too short.</exception>
    public static unsafe void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = LegacyGuard.Blocks(src.Length, LegacyBlock.Size, nameof(src));
        LegacyGuard.Fits(dst.Length, (long)nb * BlockQ4_1.Bytes, nameof(dst));
        fixed (float* ps = src)
        fixed (byte* pd = dst)
        {
            var y = (BlockQ4_1*)pd;
            for (int ib = 0; ib < nb; ib++)
            {
                float* x = ps + (ib * LegacyBlock.Size);
                float min = float.MaxValue, max = -float.MaxValue;
                for (int j = 0; j < LegacyBlock.Size; j++)
                {
                    if (x[j] < min)
                    {
                        min = x[j];
                    }
                    if (x[j] > max)
                    {
                        max = x[j];
                    }
                }
                float d = (max - min) / 15;
                float id = d != 0 ? 1.0f / d : 0.0f;
                y[ib].D = Fp16Conversions.FromFloat(d);
                y[ib].M = Fp16Conversions.FromFloat(min);
                for (int j = 0; j < 16; j++)
                {
                    int q0 = Math.Min(15, (int)(((x[j] - min) * id) + 0.5f));
                    int q1 = Math.Min(15, (int)(((x[j + 16] - min) * id) + 0.5f));
                    y[ib].Qs[j] = (byte)(q0 | (q1 << 4));
                }
            }
        }
    }

    /// <summary>Dot with Q8_1 activations: exact integer sums per block, FMA-accumulated in float, plus <c>m * s</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="n"/> is not a non-negative multiple of 32, or a row is too short.</exception>
    public static float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        VecDot(weights, activations, n, LegacyIsas.Best);

    /// <summary>ggml's <c>ggml_vec_dot_q4_1_q8_1_generic</c>: <c>sumf += (d_x * d_y) * sumi + m_x * s_y</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="n"/> is not a non-negative multiple of 32, or a row is too short.</exception>
    public static unsafe float VecDotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        int nb = LegacyGuard.DotBlocks(n, LegacyBlock.Size, weights.Length, BlockQ4_1.Bytes, activations.Length, BlockQ8_1.Bytes);
        fixed (byte* pw = weights)
        fixed (byte* pa = activations)
        {
            var x = (BlockQ4_1*)pw;
            var y = (BlockQ8_1*)pa;
            float sumf = 0;
            for (int ib = 0; ib < nb; ib++)
            {
                int sumi0 = 0, sumi1 = 0;
                for (int j = 0; j < 16; j++)
                {
                    sumi0 += (x[ib].Qs[j] & 0x0F) * y[ib].Qs[j];
                    sumi1 += (x[ib].Qs[j] >> 4) * y[ib].Qs[j + 16];
                }
                sumf += (Fp16Conversions.ToFloat(x[ib].D) * Fp16Conversions.ToFloat(y[ib].D) * (sumi0 + sumi1))
                    + (Fp16Conversions.ToFloat(x[ib].M) * Fp16Conversions.ToFloat(y[ib].S));
            }
            return sumf;
        }
    }

    internal static unsafe void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, LegacyIsa isa)
    {
        int nb = LegacyGuard.Blocks(dst.Length, LegacyBlock.Size, nameof(dst));
        LegacyGuard.Fits(src.Length, (long)nb * BlockQ4_1.Bytes, nameof(src));
        fixed (byte* ps = src)
        fixed (float* pd = dst)
        {
            var x = (BlockQ4_1*)ps;
            for (int ib = 0; ib < nb; ib++)
            {
                float d = Fp16Conversions.ToFloat(x[ib].D);
                float m = Fp16Conversions.ToFloat(x[ib].M);
                float* y = pd + (ib * LegacyBlock.Size);
                if (isa == LegacyIsa.Scalar)
                {
                    for (int j = 0; j < 16; j++)
                    {
                        y[j] = ((x[ib].Qs[j] & 0x0F) * d) + m;
                        y[j + 16] = ((x[ib].Qs[j] >> 4) * d) + m;
                    }
                    continue;
                }
                Vector128<byte> q = Vector128.Load(x[ib].Qs);
                LegacyDequant.Store32(LegacyInt8.LowNibbles(q).AsSByte(), LegacyInt8.HighNibbles(q).AsSByte(), d, m, true, y, isa);
            }
        }
    }

    internal static unsafe float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n, LegacyIsa isa)
    {
        if (isa == LegacyIsa.Scalar)
        {
            return VecDotReference(weights, activations, n);
        }
        int nb = LegacyGuard.DotBlocks(n, LegacyBlock.Size, weights.Length, BlockQ4_1.Bytes, activations.Length, BlockQ8_1.Bytes);
        fixed (byte* pw = weights)
        fixed (byte* pa = activations)
        {
            return LegacyBlockDot.Dot<Q4_1Dot>(pw, pa, nb, isa);
        }
    }
}

/// <summary>Q4_1 x Q8_1 integer sums: unsigned nibbles against the activations.</summary>
internal readonly unsafe struct Q4_1Dot : ILegacyBlockDot
{
    public static int WeightBytes => BlockQ4_1.Bytes;

    public static int ActivationBytes => BlockQ8_1.Bytes;

    public static bool HasMin => true;

    public static Vector128<int> Sum128(byte* x, byte* y)
    {
        Vector128<byte> q = Vector128.Load(x + 4);
        return LegacyInt8.Dot(LegacyInt8.LowNibbles(q).AsSByte(), Vector128.Load((sbyte*)(y + 4)))
            + LegacyInt8.Dot(LegacyInt8.HighNibbles(q).AsSByte(), Vector128.Load((sbyte*)(y + 20)));
    }

    public static Vector256<int> Sum256(byte* x, byte* y) =>
        LegacyInt8.DotUnsigned(LegacyInt8.Nibbles(Vector128.Load(x + 4)), Vector256.Load((sbyte*)(y + 4)));

    public static Vector512<int> Sum512(byte* x0, byte* y0, byte* x1, byte* y1) =>
        LegacyInt8.DotUnsigned(
            LegacyInt8.Nibbles(Vector128.Load(x0 + 4), Vector128.Load(x1 + 4)),
            LegacyInt8.Load2(y0 + 4, y1 + 4));
}
