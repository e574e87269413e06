using System.Runtime.Intrinsics;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// GGML_TYPE_Q8_1: blocks of 32 as an fp16 scale <c>d</c>, an fp16 <c>s = d * sum(q)</c> and signed 8-bit quants
/// (<c>block_q8_1</c>, 36 bytes). The activation type of Q4_1 and Q5_1; <c>s</c> lets their dot add the <c>m</c>
/// term without a second pass. ggml defines no dot with Q8_1 weights.
/// </summary>
public static class Q8_1Format
{
    /// <summary>Dequantizes <c>dst.Length / 32</c> blocks as <c>q * d</c> (<c>s</c> is redundant and ignored).</summary>
    /// <exception cref="ArgumentException"><c>dst.Length</c> is not a multiple of 32, or <paramref name="src"/> is too short.</exception>
    public static unsafe void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = LegacyGuard.Blocks(dst.Length, LegacyBlock.Size, nameof(dst));
        LegacyGuard.Fits(src.Length, (long)nb * BlockQ8_1.Bytes, nameof(src));
        LegacyIsa isa = LegacyIsas.Best;
        fixed (byte* ps = src)
        fixed (float* pd = dst)
        {
            var x = (BlockQ8_1*)ps;
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

    /// <summary>
    /// ggml's <c>quantize_row_q8_1_ref</c>: as Q8_0 (<c>d = amax / 127</c>, <c>q = roundf(x / d)</c>), and
    /// <c>s = fp16(sum(q) * d)</c> with the unrounded float <c>d</c>.
    /// </summary>
    /// <exception cref="ArgumentException"><c>src.Length</c> is not a multiple of 32, or <paramref name="dst"/> is too short.</exception>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst) => Quantize(src, dst, LegacyIsa.Scalar);

    /// <summary>SIMD activation quantizer as llama.cpp's x86 CPU backend quantizes activations (id = 127/amax, ties to
    /// even); it differs from <see cref="QuantizeReference"/> only on rare exact ties.</summary>
    /// <exception cref="ArgumentException"><c>src.Length</c> is not a multiple of 32, or <paramref name="dst"/> is too short.</exception>
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst) => Quantize(src, dst, LegacyIsas.Best, cpu: true);

    internal static unsafe void Quantize(ReadOnlySpan<float> src, Span<byte> dst, LegacyIsa isa, bool cpu = false)
    {
        int nb = LegacyGuard.Blocks(src.Length, LegacyBlock.Size, nameof(src));
        LegacyGuard.Fits(dst.Length, (long)nb * BlockQ8_1.Bytes, nameof(dst));
        fixed (float* ps = src)
        fixed (byte* pd = dst)
        {
            var y = (BlockQ8_1*)pd;
            for (int ib = 0; ib < nb; ib++)
            {
                int sum = LegacyQ8Quantizer.Block(ps + (ib * LegacyBlock.Size), y[ib].Qs, out float d, isa, cpu);
                y[ib].D = Fp16Conversions.FromFloat(d);
                y[ib].S = Fp16Conversions.FromFloat(sum * d);
            }
        }
    }
}
