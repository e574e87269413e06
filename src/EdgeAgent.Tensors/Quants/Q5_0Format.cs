using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// GGML_TYPE_Q5_0: blocks of 32 as an fp16 scale <c>d</c>, the fifth bits <c>qh</c> (32 bits, little-endian) and
/// 4-bit low parts, <c>x = (q - 16) * d</c> (<c>block_q5_0</c>, 22 bytes). The dot pairs with Q8_0 activations.
/// </summary>
public static class Q5_0Format
{
    /// <summary>Dequantizes <c>dst.Length / 32</c> blocks (ggml's <c>dequantize_row_q5_0</c>, bit for bit).</summary>
    /// <exception cref="ArgumentException"><c>dst.Length</c> is not a multiple of 32, or <paramref name="src"/> is too short.</exception>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => Dequantize(src, dst, LegacyIsas.Best);

    /// <summary>
    /// ggml's <c>quantize_row_q5_0_ref</c>: the element of largest magnitude (first one on ties), with its sign, maps
    /// to -16, so <c>d = max / -16</c>; <c>q = min(31, (int)(x / d + 16.5))</c>.
    /// </summary>
    /// <exception cref="ArgumentException"><c>src.Length</c> is not a multiple of 32, or <paramref name="dst"/> is too short.</exception>
    public static unsafe void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = LegacyGuard.Blocks(src.Length, LegacyBlock.Size, nameof(src));
        LegacyGuard.Fits(dst.Length, (long)nb * BlockQ5_0.Bytes, nameof(dst));
        fixed (float* ps = src)
        fixed (byte* pd = dst)
        {
            var y = (BlockQ5_0*)pd;
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
                float d = max / -16;
                float id = d != 0 ? 1.0f / d : 0.0f;
                y[ib].D = Fp16Conversions.FromFloat(d);
                uint qh = 0;
                for (int j = 0; j < 16; j++)
                {
                    int q0 = Math.Min(31, (int)((x[j] * id) + 16.5f));
                    int q1 = Math.Min(31, (int)((x[j + 16] * id) + 16.5f));
                    y[ib].Qs[j] = (byte)((q0 & 0x0F) | ((q1 & 0x0F) << 4));
                    qh |= (uint)((q0 >> 4) & 1) << j;
                    qh |= (uint)((q1 >> 4) & 1) << (j + 16);
                }
                Unsafe.WriteUnaligned(y[ib].Qh, qh);
            }
        }
    }

    /// <summary>Dot with Q8_0 activations: exact integer sums per block, FMA-accumulated in float.</summary>
    /// <exception cref="ArgumentException"><paramref name="n"/> is not a non-negative multiple of 32, or a row is too short.</exception>
    public static float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        VecDot(weights, activations, n, LegacyIsas.Best);

    /// <summary>ggml's <c>ggml_vec_dot_q5_0_q8_0_generic</c>: <c>sumf += (d_x * d_y) * sumi</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="n"/> is not a non-negative multiple of 32, or a row is too short.</exception>
    public static unsafe float VecDotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        int nb = LegacyGuard.DotBlocks(n, LegacyBlock.Size, weights.Length, BlockQ5_0.Bytes, activations.Length, BlockQ8_0.Bytes);
        fixed (byte* pw = weights)
        fixed (byte* pa = activations)
        {
            var x = (BlockQ5_0*)pw;
            var y = (BlockQ8_0*)pa;
            float sumf = 0;
            for (int ib = 0; ib < nb; ib++)
            {
                uint qh = Unsafe.ReadUnaligned<uint>(x[ib].Qh);
                int sumi0 = 0, sumi1 = 0;
                for (int j = 0; j < 16; j++)
                {
                    int x0 = ((x[ib].Qs[j] & 0x0F) | (int)(((qh >> j) & 1) << 4)) - 16;
                    int x1 = ((x[ib].Qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4)) - 16;
                    sumi0 += x0 * y[ib].Qs[j];
                    sumi1 += x1 * y[ib].Qs[j + 16];
                }
                sumf += Fp16Conversions.ToFloat(x[ib].D) * Fp16Conversions.ToFloat(y[ib].D) * (sumi0 + sumi1);
            }
            return sumf;
        }
    }

    internal static unsafe void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, LegacyIsa isa)
    {
        int nb = LegacyGuard.Blocks(dst.Length, LegacyBlock.Size, nameof(dst));
        LegacyGuard.Fits(src.Length, (long)nb * BlockQ5_0.Bytes, nameof(src));
        fixed (byte* ps = src)
        fixed (float* pd = dst)
        {
            var x = (BlockQ5_0*)ps;
            for (int ib = 0; ib < nb; ib++)
            {
                float d = Fp16Conversions.ToFloat(x[ib].D);
                uint qh = Unsafe.ReadUnaligned<uint>(x[ib].Qh);
                float* y = pd + (ib * LegacyBlock.Size);
                if (isa == LegacyIsa.Scalar)
                {
                    for (int j = 0; j < 16; j++)
                    {
                        y[j] = (((x[ib].Qs[j] & 0x0F) | (int)(((qh >> j) & 1) << 4)) - 16) * d;
                        y[j + 16] = (((x[ib].Qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4)) - 16) * d;
                    }
                    continue;
                }
                Vector128<byte> q = Vector128.Load(x[ib].Qs);
                Vector128<sbyte> sixteen = Vector128.Create((sbyte)16);
                Vector128<byte> lo = LegacyInt8.LowNibbles(q) | LegacyInt8.FifthBits(qh);
                Vector128<byte> hi = LegacyInt8.HighNibbles(q) | LegacyInt8.FifthBits(qh >> 16);
                LegacyDequant.Store32(lo.AsSByte() - sixteen, hi.AsSByte() - sixteen, d, 0, false, y, isa);
            }
        }
    }

    internal static unsafe float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n, LegacyIsa isa)
    {
        if (isa == LegacyIsa.Scalar)
        {
            return VecDotReference(weights, activations, n);
        }
        int nb = LegacyGuard.DotBlocks(n, LegacyBlock.Size, weights.Length, BlockQ5_0.Bytes, activations.Length, BlockQ8_0.Bytes);
        fixed (byte* pw = weights)
        fixed (byte* pa = activations)
        {
            return LegacyBlockDot.Dot<Q5_0Dot>(pw, pa, nb, isa);
        }
    }
}

/// <summary>Q5_0 x Q8_0 integer sums: unsigned 5-bit quants against the activations, less 16 times their sum.</summary>
internal readonly unsafe struct Q5_0Dot : ILegacyBlockDot
{
    public static int WeightBytes => BlockQ5_0.Bytes;

    public static int ActivationBytes => BlockQ8_0.Bytes;

    public static bool HasMin => false;

    public static Vector128<int> Sum128(byte* x, byte* y)
    {
        uint qh = Unsafe.ReadUnaligned<uint>(x + 2);
        Vector128<byte> q = Vector128.Load(x + 6);
        Vector128<sbyte> sixteen = Vector128.Create((sbyte)16);
        Vector128<sbyte> lo = (LegacyInt8.LowNibbles(q) | LegacyInt8.FifthBits(qh)).AsSByte() - sixteen;
        Vector128<sbyte> hi = (LegacyInt8.HighNibbles(q) | LegacyInt8.FifthBits(qh >> 16)).AsSByte() - sixteen;
        return LegacyInt8.Dot(lo, Vector128.Load((sbyte*)(y + 2))) + LegacyInt8.Dot(hi, Vector128.Load((sbyte*)(y + 18)));
    }

    public static Vector256<int> Sum256(byte* x, byte* y)
    {
        Vector256<byte> u = LegacyInt8.Nibbles(Vector128.Load(x + 6)) | LegacyInt8.FifthBits256(Unsafe.ReadUnaligned<uint>(x + 2));
        return LegacyInt8.DotOffset(u, Vector256.Load((sbyte*)(y + 2)), 16);
    }

    public static Vector512<int> Sum512(byte* x0, byte* y0, byte* x1, byte* y1)
    {
        Vector512<byte> u = LegacyInt8.Nibbles(Vector128.Load(x0 + 6), Vector128.Load(x1 + 6))
            | LegacyInt8.FifthBits512(Unsafe.ReadUnaligned<uint>(x0 + 2), Unsafe.ReadUnaligned<uint>(x1 + 2));
        return LegacyInt8.DotOffset(u, LegacyInt8.Load2(y0 + 2, y1 + 2), 16);
    }
}
