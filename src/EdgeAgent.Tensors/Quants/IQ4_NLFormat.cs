using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// GGML_TYPE_IQ4_NL: blocks of 32 as an fp16 scale <c>d</c> and 4-bit indices into the non-linear table
/// <c>kvalues_iq4nl</c>, <c>x = kvalues_iq4nl[q] * d</c> (<c>block_iq4_nl</c>, 18 bytes). The dot pairs with Q8_0.
/// </summary>
public static class IQ4_NLFormat
{
    /// <summary>Scale search half-width of <c>quantize_iq4_nl</c> (ggml-quants.c), the quantizer llama-quantize uses.</summary>
    internal const int SearchSteps = 7;

    private const float GroupMaxEps = 1e-15f; // GROUP_MAX_EPS in ggml-quants.c

    /// <summary><c>kvalues_iq4nl</c> of ggml-common.h, sorted ascending.</summary>
    internal static ReadOnlySpan<sbyte> Values => [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

    /// <summary>Dequantizes <c>dst.Length / 32</c> blocks (ggml's <c>dequantize_row_iq4_nl</c>, bit for bit).</summary>
    /// <exception cref="ArgumentException"><c>dst.Length</c> is not a multiple of 32, or <paramref name="src"/> is too short.</exception>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => Dequantize(src, dst, LegacyIsas.Best);

    /// <summary>
    /// llama.cpp's <c>quantize_iq4_nl</c> without importance weights (so each element weighs <c>x^2</c>): a first
    /// scale from the element of largest magnitude, a least-squares refit, a search over 15 trial scales
    /// (<c>quantize_row_iq4_nl_impl</c> with <c>ntry = 7</c>), and a final re-assignment of the indices to the fp32 scale.
    /// </summary>
    /// <exception cref="ArgumentException"><c>src.Length</c> is not a multiple of 32, or <paramref name="dst"/> is too short.</exception>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst) => Quantize(src, dst, SearchSteps);

    /// <summary>Dot with Q8_0 activations: exact integer sums per block, FMA-accumulated in float.</summary>
    /// <exception cref="ArgumentException"><paramref name="n"/> is not a non-negative multiple of 32, or a row is too short.</exception>
    public static float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        VecDot(weights, activations, n, LegacyIsas.Best);

    /// <summary>ggml's <c>ggml_vec_dot_iq4_nl_q8_0_generic</c>: <c>sumf += (d_y * d_x) * sumi</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="n"/> is not a non-negative multiple of 32, or a row is too short.</exception>
    public static unsafe float VecDotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        int nb = LegacyGuard.DotBlocks(n, LegacyBlock.Size, weights.Length, BlockIQ4_NL.Bytes, activations.Length, BlockQ8_0.Bytes);
        ReadOnlySpan<sbyte> values = Values;
        fixed (byte* pw = weights)
        fixed (byte* pa = activations)
        {
            var x = (BlockIQ4_NL*)pw;
            var y = (BlockQ8_0*)pa;
            float sumf = 0;
            for (int ib = 0; ib < nb; ib++)
            {
                float d = Fp16Conversions.ToFloat(y[ib].D) * Fp16Conversions.ToFloat(x[ib].D);
                int sumi1 = 0, sumi2 = 0;
                for (int j = 0; j < 16; j++)
                {
                    sumi1 += y[ib].Qs[j] * values[x[ib].Qs[j] & 0x0F];
                    sumi2 += y[ib].Qs[j + 16] * values[x[ib].Qs[j] >> 4];
                }
                sumf += d * (sumi1 + sumi2);
            }
            return sumf;
        }
    }

    /// <summary>
    /// ggml's <c>quantize_row_iq4_nl_ref</c> (its <c>from_float_ref</c>, <c>ntry = -1</c>): the first scale and the
    /// least-squares refit only, no search and no re-assignment. Kept to compare against; not in the registry.
    /// </summary>
    internal static void QuantizeRowReference(ReadOnlySpan<float> src, Span<byte> dst) => Quantize(src, dst, -1);

    internal static unsafe void Quantize(ReadOnlySpan<float> src, Span<byte> dst, int ntry)
    {
        int nb = LegacyGuard.Blocks(src.Length, LegacyBlock.Size, nameof(src));
        LegacyGuard.Fits(dst.Length, (long)nb * BlockIQ4_NL.Bytes, nameof(dst));
        fixed (float* ps = src)
        fixed (byte* pd = dst)
        {
            var y = (BlockIQ4_NL*)pd;
            for (int ib = 0; ib < nb; ib++)
            {
                QuantizeBlock(ps + (ib * LegacyBlock.Size), ref y[ib], ntry);
            }
        }
    }

    // quantize_row_iq4_nl_impl for one super-block of one 32-element block, without importance weights. The float
    // expressions keep ggml's evaluation order: each rounding matters to which trial scale wins.
    private static unsafe void QuantizeBlock(float* x, ref BlockIQ4_NL y, int ntry)
    {
        ReadOnlySpan<sbyte> values = Values;
        byte* l = stackalloc byte[LegacyBlock.Size];
        float amax = 0, max = 0;
        for (int j = 0; j < LegacyBlock.Size; j++)
        {
            float ax = MathF.Abs(x[j]);
            if (ax > amax)
            {
                amax = ax;
                max = x[j];
            }
        }
        float scale = 0;
        if (amax < GroupMaxEps)
        {
            new Span<byte>(l, LegacyBlock.Size).Clear();
        }
        else
        {
            float d = ntry > 0 ? -max / values[0] : max / values[0];
            float id = 1 / d;
            float sumqx = 0, sumq2 = 0;
            for (int j = 0; j < LegacyBlock.Size; j++)
            {
                int k = BestIndex(id * x[j]);
                l[j] = (byte)k;
                float q = values[k];
                float w = x[j] * x[j];
                sumqx += w * q * x[j];
                sumq2 += w * q * q;
            }
            d = sumq2 > 0 ? sumqx / sumq2 : 0.0f;
            float best = d * sumqx;
            for (int itry = -ntry; itry <= ntry; itry++)
            {
                id = (itry + values[0]) / max;
                sumqx = sumq2 = 0;
                for (int j = 0; j < LegacyBlock.Size; j++)
                {
                    float q = values[BestIndex(id * x[j])];
                    float w = x[j] * x[j];
                    sumqx += w * q * x[j];
                    sumq2 += w * q * q;
                }
                if (sumq2 > 0 && sumqx * sumqx > best * sumq2)
                {
                    d = sumqx / sumq2;
                    best = d * sumqx;
                }
            }
            scale = d;
        }
        y.D = Fp16Conversions.FromFloat(scale);
        if (ntry > 0)
        {
            // Re-assign every index against the final fp32 scale (ggml does this even for an all-zero block).
            float id = scale != 0 ? 1 / scale : 0;
            for (int j = 0; j < LegacyBlock.Size; j++)
            {
                l[j] = (byte)BestIndex(id * x[j]);
            }
        }
        for (int j = 0; j < 16; j++)
        {
            y.Qs[j] = (byte)(l[j] | (l[j + 16] << 4));
        }
    }

    /// <summary>
    /// Index of the table value nearest to <paramref name="x"/>, ties to the larger (ggml's <c>best_index_int8</c>):
    /// level k wins once <c>2x</c> reaches <c>values[k-1] + values[k]</c>, both sides exact; branch-free binary search.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int BestIndex(float x)
    {
        ReadOnlySpan<sbyte> values = Values;
        float x2 = x + x;
        int index = 0;
        for (int step = 8; step > 0; step >>= 1)
        {
            int k = index + step;
            index = x2 >= values[k - 1] + values[k] ? k : index;
        }
        return index;
    }

    internal static unsafe void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, LegacyIsa isa)
    {
        int nb = LegacyGuard.Blocks(dst.Length, LegacyBlock.Size, nameof(dst));
        LegacyGuard.Fits(src.Length, (long)nb * BlockIQ4_NL.Bytes, nameof(src));
        ReadOnlySpan<sbyte> values = Values;
        fixed (byte* ps = src)
        fixed (float* pd = dst)
        {
            var x = (BlockIQ4_NL*)ps;
            for (int ib = 0; ib < nb; ib++)
            {
                float d = Fp16Conversions.ToFloat(x[ib].D);
                float* y = pd + (ib * LegacyBlock.Size);
                if (isa == LegacyIsa.Scalar)
                {
                    for (int j = 0; j < 16; j++)
                    {
                        y[j] = d * values[x[ib].Qs[j] & 0x0F];
                        y[j + 16] = d * values[x[ib].Qs[j] >> 4];
                    }
                    continue;
                }
                Vector128<byte> q = Vector128.Load(x[ib].Qs);
                LegacyDequant.Store32(Lookup(LegacyInt8.LowNibbles(q)), Lookup(LegacyInt8.HighNibbles(q)), d, 0, false, y, isa);
            }
        }
    }

    internal static unsafe float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n, LegacyIsa isa)
    {
        if (isa == LegacyIsa.Scalar)
        {
            return VecDotReference(weights, activations, n);
        }
        int nb = LegacyGuard.DotBlocks(n, LegacyBlock.Size, weights.Length, BlockIQ4_NL.Bytes, activations.Length, BlockQ8_0.Bytes);
        fixed (byte* pw = weights)
        fixed (byte* pa = activations)
        {
            return LegacyBlockDot.Dot<IQ4_NLDot>(pw, pa, nb, isa);
        }
    }

    /// <summary>The table as a vector, for byte shuffles.</summary>
    internal static Vector128<sbyte> Table
    {
        // Inlined even where the caller is past the JIT's inlining budget (a call per use in a kernel loop otherwise).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector128.Create((sbyte)-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);
    }

    /// <summary>Table values of 16 indices (each 0..15).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<sbyte> Lookup(Vector128<byte> indices) => Vector128.ShuffleNative(Table, indices.AsSByte());
}

/// <summary>IQ4_NL x Q8_0 integer sums: table lookups by byte shuffle, then an exact signed 8-bit dot.</summary>
internal readonly unsafe struct IQ4_NLDot : ILegacyBlockDot
{
    public static int WeightBytes => BlockIQ4_NL.Bytes;

    public static int ActivationBytes => BlockQ8_0.Bytes;

    public static bool HasMin => false;

    public static Vector128<int> Sum128(byte* x, byte* y)
    {
        Vector128<byte> q = Vector128.Load(x + 2);
        return LegacyInt8.Dot(IQ4_NLFormat.Lookup(LegacyInt8.LowNibbles(q)), Vector128.Load((sbyte*)(y + 2)))
            + LegacyInt8.Dot(IQ4_NLFormat.Lookup(LegacyInt8.HighNibbles(q)), Vector128.Load((sbyte*)(y + 18)));
    }

    public static Vector256<int> Sum256(byte* x, byte* y)
    {
        // vpshufb looks up within each 128-bit lane, so the 16-entry table is repeated in both.
        Vector256<sbyte> v = Avx2.Shuffle(Vector256.Create(IQ4_NLFormat.Table), LegacyInt8.Nibbles(Vector128.Load(x + 2)).AsSByte());
        return LegacyInt8.Dot(v, Vector256.Load((sbyte*)(y + 2)));
    }

    public static Vector512<int> Sum512(byte* x0, byte* y0, byte* x1, byte* y1)
    {
        Vector512<sbyte> v = Avx512BW.Shuffle(
            Vector512.Create(IQ4_NLFormat.Table),
            LegacyInt8.Nibbles(Vector128.Load(x0 + 2), Vector128.Load(x1 + 2)).AsSByte());
        return LegacyInt8.Dot(v.GetLower(), Vector256.Load((sbyte*)(y0 + 2)), v.GetUpper(), Vector256.Load((sbyte*)(y1 + 2)));
    }
}
