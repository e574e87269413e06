using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// One element type of a float-like row (F32, F16, BF16): how to widen its elements to float and narrow floats to it,
/// one at a time and 4, 8 or 16 at a time. Implemented by small structs so <see cref="FloatRows"/>' generic drivers
/// are specialised per type by the JIT, without virtual calls.
/// </summary>
internal unsafe interface IFloatRow
{
    /// <summary>Bytes per element.</summary>
    static abstract int ElementSize { get; }

    /// <summary>The element at <paramref name="p"/>, widened.</summary>
    static abstract float Load(byte* p);

    /// <summary>Stores <paramref name="value"/> at <paramref name="p"/> with the reference rounding.</summary>
    static abstract void Store(byte* p, float value);

    /// <summary>4 elements (portable 128-bit code).</summary>
    static abstract Vector128<float> Load128(byte* p);

    /// <summary>8 elements (AVX2 tier).</summary>
    static abstract Vector256<float> Load256(byte* p);

    /// <summary>16 elements (AVX-512 tier).</summary>
    static abstract Vector512<float> Load512(byte* p);

    /// <summary>Narrows and stores 4 elements; must round exactly as <see cref="Store"/>.</summary>
    static abstract void Store128(byte* p, Vector128<float> v);

    /// <summary>Narrows and stores 8 elements; must round exactly as <see cref="Store"/>.</summary>
    static abstract void Store256(byte* p, Vector256<float> v);

    /// <summary>Narrows and stores 16 elements; must round exactly as <see cref="Store"/>.</summary>
    static abstract void Store512(byte* p, Vector512<float> v);
}

/// <summary>
/// Generic drivers over <see cref="IFloatRow"/>: widen a row, narrow a row, dot two rows. Each picks the widest
/// tier the caller allows (512, 256, 128 bits, then scalar). Element-wise loops finish by redoing the last full
/// vector (overlap); the dot masks the lanes of its last, overlapping vector that were already summed.
/// </summary>
internal static unsafe class FloatRows
{
    /// <summary>Widens <paramref name="n"/> elements at <paramref name="src"/> to floats at <paramref name="dst"/>.</summary>
    public static void ToFloat<T>(byte* src, float* dst, int n, LegacyIsa isa)
        where T : struct, IFloatRow
    {
        nint s = T.ElementSize;
        if (isa >= LegacyIsa.Avx512 && n >= 16)
        {
            int i = 0;
            for (; i <= n - 16; i += 16)
            {
                T.Load512(src + (i * s)).Store(dst + i);
            }
            if (i < n)
            {
                i = n - 16;
                T.Load512(src + (i * s)).Store(dst + i);
            }
            return;
        }
        if (isa >= LegacyIsa.Avx2 && n >= 8)
        {
            int i = 0;
            for (; i <= n - 8; i += 8)
            {
                T.Load256(src + (i * s)).Store(dst + i);
            }
            if (i < n)
            {
                i = n - 8;
                T.Load256(src + (i * s)).Store(dst + i);
            }
            return;
        }
        if (isa >= LegacyIsa.Vector128 && n >= 4)
        {
            int i = 0;
            for (; i <= n - 4; i += 4)
            {
                T.Load128(src + (i * s)).Store(dst + i);
            }
            if (i < n)
            {
                i = n - 4;
                T.Load128(src + (i * s)).Store(dst + i);
            }
            return;
        }
        for (int i = 0; i < n; i++)
        {
            dst[i] = T.Load(src + (i * s));
        }
    }

    /// <summary>Narrows <paramref name="n"/> floats at <paramref name="src"/> to elements at <paramref name="dst"/>.</summary>
    public static void FromFloat<T>(float* src, byte* dst, int n, LegacyIsa isa)
        where T : struct, IFloatRow
    {
        nint s = T.ElementSize;
        if (isa >= LegacyIsa.Avx512 && n >= 16)
        {
            int i = 0;
            for (; i <= n - 16; i += 16)
            {
                T.Store512(dst + (i * s), Vector512.Load(src + i));
            }
            if (i < n)
            {
                i = n - 16;
                T.Store512(dst + (i * s), Vector512.Load(src + i));
            }
            return;
        }
        if (isa >= LegacyIsa.Avx2 && n >= 8)
        {
            int i = 0;
            for (; i <= n - 8; i += 8)
            {
                T.Store256(dst + (i * s), Vector256.Load(src + i));
            }
            if (i < n)
            {
                i = n - 8;
                T.Store256(dst + (i * s), Vector256.Load(src + i));
            }
            return;
        }
        if (isa >= LegacyIsa.Vector128 && n >= 4)
        {
            int i = 0;
            for (; i <= n - 4; i += 4)
            {
                T.Store128(dst + (i * s), Vector128.Load(src + i));
            }
            if (i < n)
            {
                i = n - 4;
                T.Store128(dst + (i * s), Vector128.Load(src + i));
            }
            return;
        }
        for (int i = 0; i < n; i++)
        {
            T.Store(dst + (i * s), src[i]);
        }
    }

    /// <summary>
    /// Reference dot product, as ggml's scalar <c>ggml_vec_dot_f32/f16/bf16</c>: each product rounded to float,
    /// summed in double (<c>ggml_float</c>), the total rounded to float.
    /// </summary>
    public static float DotReference<T>(byte* x, byte* y, int n)
        where T : struct, IFloatRow
    {
        nint s = T.ElementSize;
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += T.Load(x + (i * s)) * T.Load(y + (i * s));
        }
        return (float)sum;
    }

    /// <summary>
    /// Fast dot product: float fused multiply-adds in vector accumulators, like ggml's SIMD <c>ggml_vec_dot_f16</c>.
    /// Rows too short for a vector use the reference.
    /// </summary>
    public static float Dot<T>(byte* x, byte* y, int n, LegacyIsa isa)
        where T : struct, IFloatRow
    {
        if (isa >= LegacyIsa.Avx512 && n >= 16)
        {
            return Dot512<T>(x, y, n);
        }
        if (isa >= LegacyIsa.Avx2 && n >= 8)
        {
            return Dot256<T>(x, y, n);
        }
        if (isa >= LegacyIsa.Vector128 && n >= 4)
        {
            return Dot128<T>(x, y, n);
        }
        return DotReference<T>(x, y, n);
    }

    // Four accumulators hide the FMA latency; the tail re-reads the last full vector and masks what was summed.
    private static float Dot512<T>(byte* x, byte* y, int n)
        where T : struct, IFloatRow
    {
        nint s = T.ElementSize;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int i = 0;
        for (; i <= n - 64; i += 64)
        {
            a0 = Vector512.FusedMultiplyAdd(T.Load512(x + (i * s)), T.Load512(y + (i * s)), a0);
            a1 = Vector512.FusedMultiplyAdd(T.Load512(x + ((i + 16) * s)), T.Load512(y + ((i + 16) * s)), a1);
            a2 = Vector512.FusedMultiplyAdd(T.Load512(x + ((i + 32) * s)), T.Load512(y + ((i + 32) * s)), a2);
            a3 = Vector512.FusedMultiplyAdd(T.Load512(x + ((i + 48) * s)), T.Load512(y + ((i + 48) * s)), a3);
        }
        for (; i <= n - 16; i += 16)
        {
            a0 = Vector512.FusedMultiplyAdd(T.Load512(x + (i * s)), T.Load512(y + (i * s)), a0);
        }
        if (i < n)
        {
            int start = n - 16;
            Vector512<float> fresh = Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(i - start)).AsSingle();
            a1 += (T.Load512(x + (start * s)) * T.Load512(y + (start * s))) & fresh;
        }
        return Vector512.Sum((a0 + a1) + (a2 + a3));
    }

    private static float Dot256<T>(byte* x, byte* y, int n)
        where T : struct, IFloatRow
    {
        nint s = T.ElementSize;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int i = 0;
        for (; i <= n - 32; i += 32)
        {
            a0 = Vector256.FusedMultiplyAdd(T.Load256(x + (i * s)), T.Load256(y + (i * s)), a0);
            a1 = Vector256.FusedMultiplyAdd(T.Load256(x + ((i + 8) * s)), T.Load256(y + ((i + 8) * s)), a1);
            a2 = Vector256.FusedMultiplyAdd(T.Load256(x + ((i + 16) * s)), T.Load256(y + ((i + 16) * s)), a2);
            a3 = Vector256.FusedMultiplyAdd(T.Load256(x + ((i + 24) * s)), T.Load256(y + ((i + 24) * s)), a3);
        }
        for (; i <= n - 8; i += 8)
        {
            a0 = Vector256.FusedMultiplyAdd(T.Load256(x + (i * s)), T.Load256(y + (i * s)), a0);
        }
        if (i < n)
        {
            int start = n - 8;
            Vector256<float> fresh = Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create(i - start)).AsSingle();
            a1 += (T.Load256(x + (start * s)) * T.Load256(y + (start * s))) & fresh;
        }
        return Vector256.Sum((a0 + a1) + (a2 + a3));
    }

    // Portable: MultiplyAddEstimate fuses where the hardware can (Arm, x86 with FMA) and multiplies-then-adds elsewhere.
    private static float Dot128<T>(byte* x, byte* y, int n)
        where T : struct, IFloatRow
    {
        nint s = T.ElementSize;
        Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            a0 = Vector128.MultiplyAddEstimate(T.Load128(x + (i * s)), T.Load128(y + (i * s)), a0);
            a1 = Vector128.MultiplyAddEstimate(T.Load128(x + ((i + 4) * s)), T.Load128(y + ((i + 4) * s)), a1);
            a2 = Vector128.MultiplyAddEstimate(T.Load128(x + ((i + 8) * s)), T.Load128(y + ((i + 8) * s)), a2);
            a3 = Vector128.MultiplyAddEstimate(T.Load128(x + ((i + 12) * s)), T.Load128(y + ((i + 12) * s)), a3);
        }
        for (; i <= n - 4; i += 4)
        {
            a0 = Vector128.MultiplyAddEstimate(T.Load128(x + (i * s)), T.Load128(y + (i * s)), a0);
        }
        if (i < n)
        {
            int start = n - 4;
            Vector128<float> fresh = Vector128.GreaterThanOrEqual(Vector128<int>.Indices, Vector128.Create(i - start)).AsSingle();
            a1 += (T.Load128(x + (start * s)) * T.Load128(y + (start * s))) & fresh;
        }
        return Vector128.Sum((a0 + a1) + (a2 + a3));
    }

    /// <summary>Reads 4 consecutive 16-bit elements into 32-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<uint> Widen4x16(byte* p) =>
        Vector128.WidenLower(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(p)).AsUInt16());

    /// <summary>Stores the low 16 bits of 4 lanes as 4 consecutive 16-bit elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Narrow4x16(byte* p, Vector128<uint> v) =>
        Unsafe.WriteUnaligned(p, Vector128.Narrow(v, v).AsUInt64().ToScalar());
}
