using System.Runtime.Intrinsics;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// GGML_TYPE_Q4_0: blocks of 32 as an fp16 scale <c>d</c> and 4-bit quants, <c>x = (q - 8) * d</c>
/// (<c>block_q4_0</c>, 18 bytes). The dot pairs with Q8_0 activations.
/// </summary>
public static class Q4_0Format
{
    /// <summary>Dequantizes <c>dst.Length / 32</c> blocks (ggml's <c>dequantize_row_q4_0</c>, bit for bit).</summary>
    /// <exception cref="ArgumentException"><c>dst.Length</c> is not a multiple of 32, or <paramref name="src"/> is too short.</exception>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => Dequantize(src, dst, LegacyIsas.Best);

    /// <summary>
    /// ggml's <c>quantize_row_q4_0_ref</c>: the element of largest magnitude (first one on ties), with its sign, maps
    /// to -8, so <c>d = max / -8</c>; <c>q = min(15, (int)(x / d + 8.5))</c>.
    /// </summary>
    /// <exception cref="ArgumentException"><c>src.Length</c> is not a multiple of 32, or <paramref name="dst"/> is too short.</exception>
    public static unsafe void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = LegacyGuard.Blocks(src.Length, LegacyBlock.Size, nameof(src));
        LegacyGuard.Fits(dst.Length, (long)nb * BlockQ4_0.Bytes, nameof(dst));
        fixed (float* ps = src)
        fixed (byte* pd = dst)
        {
            var y = (BlockQ4_0*)pd;
            for (int ib = 0; ib < nb; ib++)
            {
                float* x = ps + (ib * LegacyBlock.Size);
                float amax = 0, max = 0;
                for (int j = 0; j < LegacyBlock.Size; j++)
                {
                    if (amax < MathF.Abs(x[j]))
                    {
                        amax = MathF.Abs(x[j]);
                        max = x[j];
                    }
                }
                float d = max / -8;
                float id = d != 0 ? 1.0f / d : 0.0f;
                y[ib].D = Fp16Conversions.FromFloat(d);
                for (int j = 0; j < 16; j++)
                {
                    int q0 = Math.Min(15, (int)((x[j] * id) + 8.5f));
                    int q1 = Math.Min(15, (int)((x[j + 16] * id) + 8.5f));
                    y[ib].Qs[j] = (byte)(q0 | (q1 << 4));
                }
            }
        }
    }

    /// <summary>Dot with Q8_0 activations: exact integer sums per block, FMA-accumulated in float.</summary>
    /// <exception cref="ArgumentException"><paramref name="n"/> is not a non-negative multiple of 32, or a row is too short.</exception>
    public static float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        VecDot(weights, activations, n, LegacyIsas.Best);

    /// <summary>ggml's <c>ggml_vec_dot_q4_0_q8_0_generic</c>: <c>sumf += sumi * d_x * d_y</c>, in that order.</summary>
    /// <exception cref="ArgumentException"><paramref name="n"/> is not a non-negative multiple of 32, or a row is too short.</exception>
    public static unsafe float VecDotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        int nb = LegacyGuard.DotBlocks(n, LegacyBlock.Size, weights.Length, BlockQ4_0.Bytes, activations.Length, BlockQ8_0.Bytes);
        fixed (byte* pw = weights)
        fixed (byte* pa = activations)
        {
            var x = (BlockQ4_0*)pw;
            var y = (BlockQ8_0*)pa;
            float sumf = 0;
            for (int ib = 0; ib < nb; ib++)
            {
                int sumi0 = 0, sumi1 = 0;
                for (int j = 0; j < 16; j++)
                {
                    sumi0 += ((x[ib].Qs[j] & 0x0F) - 8) * y[ib].Qs[j];
                    sumi1 += ((x[ib].Qs[j] >> 4) - 8) * y[ib].Qs[j + 16];
                }
                sumf += (sumi0 + sumi1) * Fp16Conversions.ToFloat(x[ib].D) * Fp16Conversions.ToFloat(y[ib].D);
            }
            return sumf;
        }
    }

    internal static unsafe void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, LegacyIsa isa)
    {
        int nb = LegacyGuard.Blocks(dst.Length, LegacyBlock.Size, nameof(dst));
        LegacyGuard.Fits(src.Length, (long)nb * BlockQ4_0.Bytes, nameof(src));
        fixed (byte* ps = src)
        fixed (float* pd = dst)
        {
            var x = (BlockQ4_0*)ps;
            for (int ib = 0; ib < nb; ib++)
            {
                float d = Fp16Conversions.ToFloat(x[ib].D);
                float* y = pd + (ib * LegacyBlock.Size);
                if (isa == LegacyIsa.Scalar)
                {
                    for (int j = 0; j < 16; j++)
                    {
                        y[j] = ((x[ib].Qs[j] & 0x0F) - 8) * d;
                        y[j + 16] = ((x[ib].Qs[j] >> 4) - 8) * d;
                    }
                    continue;
                }
                Vector128<byte> q = Vector128.Load(x[ib].Qs);
                Vector128<sbyte> eight = Vector128.Create((sbyte)8);
                LegacyDequant.Store32(LegacyInt8.LowNibbles(q).AsSByte() - eight, LegacyInt8.HighNibbles(q).AsSByte() - eight, d, 0, false, y, isa);
            }
        }
    }

    internal static unsafe float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n, LegacyIsa isa)
    {
        if (isa == LegacyIsa.Scalar)
        {
            return VecDotReference(weights, activations, n);
        }
        int nb = LegacyGuard.DotBlocks(n, LegacyBlock.Size, weights.Length, BlockQ4_0.Bytes, activations.Length, BlockQ8_0.Bytes);
        fixed (byte* pw = weights)
        fixed (byte* pa = activations)
        {
            return LegacyBlockDot.Dot<Q4_0Dot>(pw, pa, nb, isa);
        }
    }
}

/// <summary>Q4_0 x Q8_0 integer sums: unsigned nibbles against the activations, less 8 times their sum.</summary>
internal readonly unsafe struct Q4_0Dot : ILegacyBlockDot
{
    public static int WeightBytes => BlockQ4_0.Bytes;

    public static int ActivationBytes => BlockQ8_0.Bytes;

    public static bool HasMin => false;

    public static Vector128<int> Sum128(byte* x, byte* y)
    {
        Vector128<byte> q = Vector128.Load(x + 2);
        Vector128<sbyte> eight = Vector128.Create((sbyte)8);
        return LegacyInt8.Dot(LegacyInt8.LowNibbles(q).AsSByte() - eight, Vector128.Load((sbyte*)(y + 2)))
            + LegacyInt8.Dot(LegacyInt8.HighNibbles(q).AsSByte() - eight, Vector128.Load((sbyte*)(y + 18)));
    }

    public static Vector256<int> Sum256(byte* x, byte* y) =>
        LegacyInt8.DotOffset(LegacyInt8.Nibbles(Vector128.Load(x + 2)), Vector256.Load((sbyte*)(y + 2)), 8);

    public static Vector512<int> Sum512(byte* x0, byte* y0, byte* x1, byte* y1) =>
        LegacyInt8.DotOffset(
            LegacyInt8.Nibbles(Vector128.Load(x0 + 2), Vector128.Load(x1 + 2)),
            LegacyInt8.Load2(y0 + 2, y1 + 2),
            8);
}
