using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// GGML_TYPE_F32: plain little-endian binary32 elements (block size 1). The dot pairs with F32 activations.
/// </summary>
public static class F32Format
{
    /// <summary>Copies <c>dst.Length</c> floats out of <paramref name="src"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="src"/> is shorter than <c>4 * dst.Length</c> bytes.</exception>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        LegacyGuard.Fits(src.Length, 4L * dst.Length, nameof(src));
        src[..(4 * dst.Length)].CopyTo(MemoryMarshal.AsBytes(dst));
    }

    /// <summary>Copies the floats of <paramref name="src"/> into <paramref name="dst"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="dst"/> is shorter than <c>4 * src.Length</c> bytes.</exception>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        LegacyGuard.Fits(dst.Length, 4L * src.Length, nameof(dst));
        MemoryMarshal.AsBytes(src).CopyTo(dst);
    }

    /// <summary>Dot product of <paramref name="n"/> floats: vector FMAs in float (ggml's SIMD <c>ggml_vec_dot_f32</c>).</summary>
    /// <exception cref="ArgumentException"><paramref name="n"/> is negative or a row is shorter than <c>4 * n</c> bytes.</exception>
    public static float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        VecDot(weights, activations, n, LegacyIsas.Best);

    /// <summary>Reference dot product: float products summed in double, as ggml's scalar <c>ggml_vec_dot_f32</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="n"/> is negative or a row is shorter than <c>4 * n</c> bytes.</exception>
    public static unsafe float VecDotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        LegacyGuard.DotBlocks(n, 1, weights.Length, 4, activations.Length, 4);
        fixed (byte* x = weights)
        fixed (byte* y = activations)
        {
            return FloatRows.DotReference<F32Row>(x, y, n);
        }
    }

    internal static unsafe float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n, LegacyIsa isa)
    {
        LegacyGuard.DotBlocks(n, 1, weights.Length, 4, activations.Length, 4);
        fixed (byte* x = weights)
        fixed (byte* y = activations)
        {
            return FloatRows.Dot<F32Row>(x, y, n, isa);
        }
    }
}

/// <summary>F32 elements for <see cref="FloatRows"/>.</summary>
internal readonly unsafe struct F32Row : IFloatRow
{
    public static int ElementSize => 4;

    public static float Load(byte* p) => Unsafe.ReadUnaligned<float>(p);

    public static void Store(byte* p, float value) => Unsafe.WriteUnaligned(p, value);

    public static Vector128<float> Load128(byte* p) => Vector128.Load((float*)p);

    public static Vector256<float> Load256(byte* p) => Vector256.Load((float*)p);

    public static Vector512<float> Load512(byte* p) => Vector512.Load((float*)p);

    public static void Store128(byte* p, Vector128<float> v) => v.Store((float*)p);

    public static void Store256(byte* p, Vector256<float> v) => v.Store((float*)p);

    public static void Store512(byte* p, Vector512<float> v) => v.Store((float*)p);
}
