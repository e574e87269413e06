using System.Runtime.Intrinsics;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// GGML_TYPE_Q8_0: blocks of 32 as an fp16 scale <c>d</c> and signed 8-bit quants, <c>x = q * d</c>
/// (<c>block_q8_0</c>, 34 bytes). Both a weight type and the activation type of Q4_0, Q5_0, Q8_0 and IQ4_NL.
/// </summary>
public static class Q8_0Format
{
    /// <summary>Dequantizes <c>dst.Length / 32</c> blocks (ggml's <c>dequantize_row_q8_0</c>, bit for bit).</summary>
    /// <exception cref="ArgumentException"><c>dst.Length</c> is not a multiple of 32, or <paramref name="src"/> is too short.</exception>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => Dequantize(src, dst, LegacyIsas.Best);

    /// <summary>ggml's <c>quantize_row_q8_0_ref</c>: <c>d = amax / 127</c>, <c>q = roundf(x / d)</c>.</summary>
    /// <exception cref="ArgumentException"><c>src.Length</c> is not a multiple of 32, or <paramref name="dst"/> is too short.</exception>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst) => Quantize(src, dst, LegacyIsa.Scalar);

    /// <summary>SIMD activation quantizer as llama.cpp's x86 CPU backend quantizes activations (id = 127/amax, ties to
    /// even); it differs from <see cref="QuantizeReference"/> only on rare exact ties.</summary>
    /// <exception cref="ArgumentException"><c>src.Length</c> is not a multiple of 32, or <paramref name="dst"/> is too short.</exception>
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst) => Quantize(src, dst, LegacyIsas.Best, cpu: true);

    /// <summary>Dot with Q8_0 activations: exact integer sums per block, FMA-accumulated in float.</summary>
    /// <exception cref="ArgumentException"><paramref name="n"/> is not a non-negative multiple of 32, or a row is too short.</exception>
    public static float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        VecDot(weights, activations, n, LegacyIsas.Best);

    /// <summary>ggml's <c>ggml_vec_dot_q8_0_q8_0_generic</c>: <c>sumf += sumi * (d_x * d_y)</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="n"/> is not a non-negative multiple of 32, or a row is too short.</exception>
    public static unsafe float VecDotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        int nb = LegacyGuard.DotBlocks(n, LegacyBlock.Size, weights.Length, BlockQ8_0.Bytes, activations.Length, BlockQ8_0.Bytes);
        fixed (byte* pw = weights)
        fixed (byte* pa = activations)
        {
            var x = (BlockQ8_0*)pw;
            var y = (BlockQ8_0*)pa;
            float sumf = 0;
            for (int ib = 0; ib < nb; ib++)
            {
                int sumi = 0;
                for (int j = 0; j < LegacyBlock.Size; j++)
                {
                    sumi += x[ib].Qs[j] * y[ib].Qs[j];
                }
                sumf += sumi * (Fp16Conversions.ToFloat(x[ib].D) * Fp16Conversions.ToFloat(y[ib].D));
            }
            return sumf;
        }
    }

    internal static unsafe void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, LegacyIsa isa)
    {
        int nb = LegacyGuard.Blocks(dst.Length, LegacyBlock.Size, nameof(dst));
        LegacyGuard.Fits(src.Length, (long)nb * BlockQ8_0.Bytes, nameof(src));
        fixed (byte* ps = src)
        fixed (float* pd = dst)
        {
            var x = (BlockQ8_0*)ps;
            for (int ib = 0; ib < nb; ib++)
            {
                float d = Fp16Conversions.ToFloat(x[ib].D);
                float* y = pd + (ib * LegacyBlock.Size);
                if (isa == LegacyIsa.Scalar)
                {
                    for (int j = 0; j < LegacyBlock.Size; j++)
                    {
                        y[j] = x[ib].Qs[j] * d;
                    }
                    continue;
                }
                LegacyDequant.Store32(Vector128.Load(x[ib].Qs), Vector128.Load(x[ib].Qs + 16), d, 0, false, y, isa);
            }
        }
    }

    internal static unsafe void Quantize(ReadOnlySpan<float> src, Span<byte> dst, LegacyIsa isa, bool cpu = false)
    {
        int nb = LegacyGuard.Blocks(src.Length, LegacyBlock.Size, nameof(src));
        LegacyGuard.Fits(dst.Length, (long)nb * BlockQ8_0.Bytes, nameof(dst));
        fixed (float* ps = src)
        fixed (byte* pd = dst)
        {
            var y = (BlockQ8_0*)pd;
            for (int ib = 0; ib < nb; ib++)
            {
                LegacyQ8Quantizer.Block(ps + (ib * LegacyBlock.Size), y[ib].Qs, out float d, isa, cpu);
                y[ib].D = Fp16Conversions.FromFloat(d);
            }
        }
    }

    internal static unsafe float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n, LegacyIsa isa)
    {
        if (isa == LegacyIsa.Scalar)
        {
            return VecDotReference(weights, activations, n);
        }
        int nb = LegacyGuard.DotBlocks(n, LegacyBlock.Size, weights.Length, BlockQ8_0.Bytes, activations.Length, BlockQ8_0.Bytes);
        fixed (byte* pw = weights)
        fixed (byte* pa = activations)
        {
            return LegacyBlockDot.Dot<Q8_0Dot>(pw, pa, nb, isa);
        }
    }
}

/// <summary>Q8_0 x Q8_0 integer sums, exact for every byte value (-128 included).</summary>
internal readonly unsafe struct Q8_0Dot : ILegacyBlockDot
{
    public static int WeightBytes => BlockQ8_0.Bytes;

    public static int ActivationBytes => BlockQ8_0.Bytes;

    public static bool HasMin => false;

    public static Vector128<int> Sum128(byte* x, byte* y) =>
        LegacyInt8.Dot(Vector128.Load((sbyte*)(x + 2)), Vector128.Load((sbyte*)(y + 2)))
        + LegacyInt8.Dot(Vector128.Load((sbyte*)(x + 18)), Vector128.Load((sbyte*)(y + 18)));

    public static Vector256<int> Sum256(byte* x, byte* y) =>
        LegacyInt8.Dot(Vector256.Load((sbyte*)(x + 2)), Vector256.Load((sbyte*)(y + 2)));

    public static Vector512<int> Sum512(byte* x0, byte* y0, byte* x1, byte* y1) =>
        LegacyInt8.Dot(
            Vector256.Load((sbyte*)(x0 + 2)), Vector256.Load((sbyte*)(y0 + 2)),
            Vector256.Load((sbyte*)(x1 + 2)), Vector256.Load((sbyte*)(y1 + 2)));
}
