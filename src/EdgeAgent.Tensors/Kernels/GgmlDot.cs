using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeAgent.Tensors.Kernels;

/// <summary>
/// Float32 dot products and sums in the exact summation orders of llama.cpp's CPU backend (AVX-512 build), so that
/// attention scores and outputs equal its values bit for bit: llamafile's tinyBLAS kernel (one 16-lane FMA
/// accumulator over the whole length, then a halving tree) when the length is a multiple of 16, otherwise
/// <c>ggml_vec_dot_f32</c> (four 16-lane accumulators over 64-element steps, folded, then the scalar leftovers).
/// </summary>
public static class GgmlDot
{
    /// <summary>Σ a[i]·b[i] over the common length, in llama.cpp's order.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = Math.Min(a.Length, b.Length);
        return n % 16 == 0 ? DotTinyBlas(a[..n], b[..n]) : DotGgml(a[..n], b[..n]);
    }

    /// <summary>One FMA accumulator of 16 lanes, then <see cref="ReduceAdd"/>. Length must be a multiple of 16.</summary>
    public static float DotTinyBlas(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var acc = Vector512<float>.Zero;
        for (int i = 0; i + 16 <= a.Length; i += 16)
        {
            acc = Vector512.FusedMultiplyAdd(Vector512.Create(a.Slice(i, 16)), Vector512.Create(b.Slice(i, 16)), acc);
        }
        return ReduceAdd(acc);
    }

    /// <summary><c>ggml_vec_dot_f32</c>: four accumulators over 64-element steps, folded (0+2, 1+3, then 0+1),
    /// reduced, then the leftovers added in order.</summary>
    public static float DotGgml(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length, np = n & ~63;
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (int i = 0; i < np; i += 64)
        {
            s0 = Vector512.FusedMultiplyAdd(Vector512.Create(a.Slice(i, 16)), Vector512.Create(b.Slice(i, 16)), s0);
            s1 = Vector512.FusedMultiplyAdd(Vector512.Create(a.Slice(i + 16, 16)), Vector512.Create(b.Slice(i + 16, 16)), s1);
            s2 = Vector512.FusedMultiplyAdd(Vector512.Create(a.Slice(i + 32, 16)), Vector512.Create(b.Slice(i + 32, 16)), s2);
            s3 = Vector512.FusedMultiplyAdd(Vector512.Create(a.Slice(i + 48, 16)), Vector512.Create(b.Slice(i + 48, 16)), s3);
        }
        float sum = ReduceAdd((s0 + s2) + (s1 + s3));
        // The leftover loop `sumf += x[i]*y[i]` as GCC compiled it: groups of 8 with the products rounded before
        // each in-order add, then the last < 8 contracted into fused multiply-adds (found against the library).
        int grouped = np + (n - np) / 8 * 8;
        for (int i = np; i < grouped; i++)
        {
            float product = a[i] * b[i];
            sum += product;
        }
        for (int i = grouped; i < n; i++)
        {
            sum = MathF.FusedMultiplyAdd(a[i], b[i], sum);
        }
        return sum;
    }

    /// <summary><see cref="DotGgml"/> of the concatenations a‖aTail and b‖bTail (a multiple of 64 in all), without
    /// copying the long parts.</summary>
    public static float DotGgmlPadded(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> aTail, ReadOnlySpan<float> bTail)
    {
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (int part = 0; part < 2; part++)
        {
            var x = part == 0 ? a : aTail;
            var y = part == 0 ? b : bTail;
            for (int i = 0; i + 64 <= x.Length; i += 64)
            {
                s0 = Vector512.FusedMultiplyAdd(Vector512.Create(x.Slice(i, 16)), Vector512.Create(y.Slice(i, 16)), s0);
                s1 = Vector512.FusedMultiplyAdd(Vector512.Create(x.Slice(i + 16, 16)), Vector512.Create(y.Slice(i + 16, 16)), s1);
                s2 = Vector512.FusedMultiplyAdd(Vector512.Create(x.Slice(i + 32, 16)), Vector512.Create(y.Slice(i + 32, 16)), s2);
                s3 = Vector512.FusedMultiplyAdd(Vector512.Create(x.Slice(i + 48, 16)), Vector512.Create(y.Slice(i + 48, 16)), s3);
            }
        }
        return ReduceAdd((s0 + s2) + (s1 + s3));
    }

    /// <summary>Horizontal sum in the order of <c>_mm512_reduce_add_ps</c>: halves to 256, to 128, then
    /// (0+2)+(1+3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ReduceAdd(Vector512<float> v)
    {
        var t3 = v.GetUpper() + v.GetLower();
        var t6 = t3.GetUpper() + t3.GetLower();
        return (t6.GetElement(0) + t6.GetElement(2)) + (t6.GetElement(1) + t6.GetElement(3));
    }
}
