using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// The integer core of one legacy weight format's dot with its 8-bit activation blocks: for a block pair it returns
/// vector lanes whose total is the exact integer dot <c>sumi</c>. Both blocks start with their fp16 <c>d</c>; when
/// <see cref="HasMin"/> the weight's fp16 <c>m</c> and the Q8_1 activation's fp16 <c>s</c> follow at byte 2.
/// </summary>
internal unsafe interface ILegacyBlockDot
{
    /// <summary>Bytes per weight block.</summary>
    static abstract int WeightBytes { get; }

    /// <summary>Bytes per activation block (34 for Q8_0, 36 for Q8_1).</summary>
    static abstract int ActivationBytes { get; }

    /// <summary>True for the offset formats (Q4_1, Q5_1): the dot adds <c>m * s</c> per block.</summary>
    static abstract bool HasMin { get; }

    /// <summary>Portable 128-bit: lanes summing to one block's <c>sumi</c>.</summary>
    static abstract Vector128<int> Sum128(byte* x, byte* y);

    /// <summary>AVX2: lanes summing to one block's <c>sumi</c>.</summary>
    static abstract Vector256<int> Sum256(byte* x, byte* y);

    /// <summary>AVX-512: lanes 0..7 sum to block 0's <c>sumi</c>, lanes 8..15 to block 1's.</summary>
    static abstract Vector512<int> Sum512(byte* x0, byte* y0, byte* x1, byte* y1);
}

/// <summary>
/// Generic driver of the legacy dots, shaped like ggml's AVX2 kernels: per block, the integer sum is converted to
/// float and fused-multiply-added with <c>d_x * d_y</c> into vector accumulators; the <c>m * s</c> terms of the
/// offset formats are summed apart in a scalar and added at the end. Q4_0 and Q8_0 on AVX-512 take
/// <see cref="BlockSumDot{T}"/> (each block's whole integer sum converted once), which <see cref="Q4_0BlockSums"/>'
/// and <see cref="Q8_0BlockSums"/>' tiles reproduce.
/// </summary>
internal static unsafe class LegacyBlockDot
{
    /// <summary>Dot of <paramref name="nb"/> block pairs with the kernels of tier <paramref name="isa"/> (not scalar).</summary>
    public static float Dot<T>(byte* x, byte* y, int nb, LegacyIsa isa)
        where T : struct, ILegacyBlockDot => isa switch
        {
            LegacyIsa.Avx512 when typeof(T) == typeof(Q4_0Dot) || typeof(T) == typeof(Q8_0Dot) => BlockSumDot<T>(x, y, nb),
            LegacyIsa.Avx512 => Dot512<T>(x, y, nb),
            LegacyIsa.Avx2 => Dot256<T>(x, y, nb),
            _ => Dot128<T>(x, y, nb),
        };

    private static Vector512<float> UpperHalf
    {
        // Inlined even where the caller is past the JIT's inlining budget (a call per use in a kernel loop otherwise).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Scale(byte* x, byte* y) =>
        Fp16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(x)) * Fp16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(y));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MinTerm(byte* x, byte* y) =>
        Fp16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(x + 2)) * Fp16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(y + 2));

    /// <summary>
    /// The row dot of the whole-block formats (<see cref="BlockSumGemm"/>): per pair, the two blocks' integer sums (any
    /// order: integers), converted and fused-multiply-added with <c>d_x·d_y</c> into the even or the odd accumulator;
    /// an odd last block goes to the even one; the result is <c>even + odd</c>.
    /// </summary>
    internal static float BlockSumDot<T>(byte* x, byte* y, int nb)
        where T : struct, ILegacyBlockDot
    {
        nint xb = T.WeightBytes, yb = T.ActivationBytes;
        float even = 0, odd = 0;
        int ib = 0;
        for (; ib + 2 <= nb; ib += 2)
        {
            byte* x0 = x + (ib * xb), y0 = y + (ib * yb);
            byte* x1 = x0 + xb, y1 = y0 + yb;
            Vector512<int> s = T.Sum512(x0, y0, x1, y1);
            even = MathF.FusedMultiplyAdd(Vector256.Sum(s.GetLower()), Scale(x0, y0), even);
            odd = MathF.FusedMultiplyAdd(Vector256.Sum(s.GetUpper()), Scale(x1, y1), odd);
        }
        if (ib < nb)
        {
            byte* xl = x + (ib * xb), yl = y + (ib * yb);
            even = MathF.FusedMultiplyAdd(Vector256.Sum(T.Sum256(xl, yl)), Scale(xl, yl), even);
        }
        return even + odd;
    }

    private static float Dot512<T>(byte* x, byte* y, int nb)
        where T : struct, ILegacyBlockDot
    {
        nint xb = T.WeightBytes, yb = T.ActivationBytes;
        Vector512<float> acc = default;
        float mins = 0;
        int ib = 0;
        for (; ib + 2 <= nb; ib += 2)
        {
            byte* x0 = x + (ib * xb), y0 = y + (ib * yb);
            byte* x1 = x0 + xb, y1 = y0 + yb;
            // [d0 x 8 | d1 x 8] by a blend of two broadcasts (no insert into a loop-carried register).
            Vector512<float> d = Vector512.ConditionalSelect(UpperHalf, Vector512.Create(Scale(x1, y1)), Vector512.Create(Scale(x0, y0)));
            acc = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(T.Sum512(x0, y0, x1, y1)), d, acc);
            if (T.HasMin)
            {
                mins += MinTerm(x0, y0) + MinTerm(x1, y1);
            }
        }
        float sum = Vector512.Sum(acc);
        if (ib < nb)
        {
            // Odd block count: the last block through the 256-bit kernel (AVX-512 implies AVX2).
            byte* xl = x + (ib * xb), yl = y + (ib * yb);
            sum += Vector256.Sum(T.Sum256(xl, yl)) * Scale(xl, yl);
            if (T.HasMin)
            {
                mins += MinTerm(xl, yl);
            }
        }
        return sum + mins;
    }

    private static float Dot256<T>(byte* x, byte* y, int nb)
        where T : struct, ILegacyBlockDot
    {
        nint xb = T.WeightBytes, yb = T.ActivationBytes;
        Vector256<float> acc = default;
        float mins = 0;
        for (int ib = 0; ib < nb; ib++)
        {
            byte* xi = x + (ib * xb), yi = y + (ib * yb);
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(T.Sum256(xi, yi)), Vector256.Create(Scale(xi, yi)), acc);
            if (T.HasMin)
            {
                mins += MinTerm(xi, yi);
            }
        }
        return Vector256.Sum(acc) + mins;
    }

    private static float Dot128<T>(byte* x, byte* y, int nb)
        where T : struct, ILegacyBlockDot
    {
        nint xb = T.WeightBytes, yb = T.ActivationBytes;
        Vector128<float> acc = default;
        float mins = 0;
        for (int ib = 0; ib < nb; ib++)
        {
            byte* xi = x + (ib * xb), yi = y + (ib * yb);
            acc = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(T.Sum128(xi, yi)), Vector128.Create(Scale(xi, yi)), acc);
            if (T.HasMin)
            {
                mins += MinTerm(xi, yi);
            }
        }
        return Vector128.Sum(acc) + mins;
    }
}
