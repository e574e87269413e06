using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// GGML_TYPE_BF16: bfloat16 elements (block size 1). Narrowing rounds as ggml's <c>ggml_compute_fp32_to_bf16</c>;
/// the dot pairs with BF16 activations.
/// </summary>
public static class BF16Format
{
    /// <summary>Widens <c>dst.Length</c> bfloat16 values (exact).</summary>
    /// <exception cref="ArgumentException"><paramref name="src"/> is shorter than <c>2 * dst.Length</c> bytes.</exception>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => Dequantize(src, dst, LegacyIsas.Best);

    /// <summary>Rounds each float to bfloat16, one at a time (ggml's <c>ggml_fp32_to_bf16_row_ref</c>).</summary>
    /// <exception cref="ArgumentException"><paramref name="dst"/> is shorter than <c>2 * src.Length</c> bytes.</exception>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst) => Quantize(src, dst, LegacyIsa.Scalar);

    /// <summary>SIMD rounding to bfloat16, bit-identical to <see cref="QuantizeReference"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="dst"/> is shorter than <c>2 * src.Length</c> bytes.</exception>
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst) => Quantize(src, dst, LegacyIsas.Best);

    /// <summary>Dot product of <paramref name="n"/> bfloat16 values: widened, vector FMAs in float.</summary>
    /// <exception cref="ArgumentException"><paramref name="n"/> is negative or a row is shorter than <c>2 * n</c> bytes.</exception>
    public static float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        VecDot(weights, activations, n, LegacyIsas.Best);

    /// <summary>Reference dot product: float products summed in double, as ggml's scalar <c>ggml_vec_dot_bf16</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="n"/> is negative or a row is shorter than <c>2 * n</c> bytes.</exception>
    public static unsafe float VecDotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        LegacyGuard.DotBlocks(n, 1, weights.Length, 2, activations.Length, 2);
        fixed (byte* x = weights)
        fixed (byte* y = activations)
        {
            return FloatRows.DotReference<BF16Row>(x, y, n);
        }
    }

    internal static unsafe void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, LegacyIsa isa)
    {
        LegacyGuard.Fits(src.Length, 2L * dst.Length, nameof(src));
        fixed (byte* s = src)
        fixed (float* d = dst)
        {
            FloatRows.ToFloat<BF16Row>(s, d, dst.Length, isa);
        }
    }

    internal static unsafe void Quantize(ReadOnlySpan<float> src, Span<byte> dst, LegacyIsa isa)
    {
        LegacyGuard.Fits(dst.Length, 2L * src.Length, nameof(dst));
        fixed (float* s = src)
        fixed (byte* d = dst)
        {
            FloatRows.FromFloat<BF16Row>(s, d, src.Length, isa);
        }
    }

    internal static unsafe float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n, LegacyIsa isa)
    {
        LegacyGuard.DotBlocks(n, 1, weights.Length, 2, activations.Length, 2);
        fixed (byte* x = weights)
        fixed (byte* y = activations)
        {
            return FloatRows.Dot<BF16Row>(x, y, n, isa);
        }
    }
}

/// <summary>BF16 elements for <see cref="FloatRows"/>.</summary>
internal readonly unsafe struct BF16Row : IFloatRow
{
    public static int ElementSize => 2;

    public static float Load(byte* p) => BF16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(p));

    public static void Store(byte* p, float value) => Unsafe.WriteUnaligned(p, BF16Conversions.FromFloat(value));

    public static Vector128<float> Load128(byte* p) => BF16Conversions.ToFloat(FloatRows.Widen4x16(p));

    public static Vector256<float> Load256(byte* p) =>
        BF16Conversions.ToFloat(Avx2.ConvertToVector256Int32(Vector128.Load((ushort*)p)).AsUInt32());

    public static Vector512<float> Load512(byte* p) =>
        BF16Conversions.ToFloat(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)p)));

    public static void Store128(byte* p, Vector128<float> v) => FloatRows.Narrow4x16(p, BF16Conversions.FromFloat(v));

    public static void Store256(byte* p, Vector256<float> v)
    {
        Vector256<uint> h = BF16Conversions.FromFloat(v);
        Vector128.Narrow(h.GetLower(), h.GetUpper()).Store((ushort*)p);
    }

    public static void Store512(byte* p, Vector512<float> v) =>
        Avx512F.ConvertToVector256UInt16(BF16Conversions.FromFloat(v)).Store((ushort*)p);
}
