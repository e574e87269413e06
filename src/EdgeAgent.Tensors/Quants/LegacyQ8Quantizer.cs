using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// The 8-bit block quantizer behind Q8_0 and Q8_1, in two flavours.
/// Reference (<c>cpu</c> false), as ggml's <c>quantize_row_q8_0_ref</c> / <c>quantize_row_q8_1_ref</c>:
/// <c>d = amax / 127</c>, <c>id = d != 0 ? 1 / d : 0</c>, <c>q = roundf(x * id)</c> (ties away from zero).
/// CPU backend (<c>cpu</c> true), as llama.cpp's x86 <c>quantize_row_q8_0</c> / <c>q8_1</c> that quantize
/// activations at run time: <c>id = 127 / amax</c> and ties rounded to even. The two differ on rare ties, and a
/// differing activation code moves a matmul output by a whole quantization step, so the engine quantizes its
/// activations the way llama.cpp does. Every tier computes the same amax (a maximum is exact in any order), the
/// same products and the same rounding, so the SIMD tiers are byte-identical to the scalar one of the same flavour.
/// </summary>
internal static unsafe class LegacyQ8Quantizer
{
    /// <summary>Quantizes 32 floats to <paramref name="q"/>; returns the sum of the quants and the float scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Block(float* x, sbyte* q, out float d, LegacyIsa isa, bool cpu = false) => isa switch
    {
        LegacyIsa.Avx512 => Block512(x, q, out d, cpu),
        LegacyIsa.Avx2 => Block256(x, q, out d, cpu),
        LegacyIsa.Vector128 => Block128(x, q, out d, cpu),
        _ => BlockScalar(x, q, out d, cpu),
    };

    /// <summary>The multiplier: ggml's reference <c>1 / d</c>, or the CPU backend's <c>127 / amax</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float InverseScale(float amax, float d, bool cpu) =>
        cpu ? (amax != 0 ? 127.0f / amax : 0.0f) : (d != 0 ? 1.0f / d : 0.0f);

    /// <summary>Reference: ggml's scalar loop.</summary>
    public static int BlockScalar(float* x, sbyte* q, out float d, bool cpu = false)
    {
        float amax = 0;
        for (int j = 0; j < LegacyBlock.Size; j++)
        {
            float a = MathF.Abs(x[j]);
            amax = amax > a ? amax : a; // ggml's MAX macro
        }
        d = amax / 127;
        float id = InverseScale(amax, d, cpu);
        int sum = 0;
        for (int j = 0; j < LegacyBlock.Size; j++)
        {
            int v = (int)MathF.Round(x[j] * id, cpu ? MidpointRounding.ToEven : MidpointRounding.AwayFromZero);
            q[j] = (sbyte)v;
            sum += v;
        }
        return sum;
    }

    private static int Block512(float* x, sbyte* q, out float d, bool cpu)
    {
        Vector512<float> v0 = Vector512.Load(x), v1 = Vector512.Load(x + 16);
        Vector512<float> m = Vector512.MaxNative(Vector512.Abs(v0), Vector512.Abs(v1));
        float amax = Max(Vector256.MaxNative(m.GetLower(), m.GetUpper()));
        d = amax / 127;
        Vector512<float> id = Vector512.Create(InverseScale(amax, d, cpu));
        Vector512<int> q0 = Vector512.ConvertToInt32Native(Round(v0 * id, cpu));
        Vector512<int> q1 = Vector512.ConvertToInt32Native(Round(v1 * id, cpu));
        Avx512F.ConvertToVector128SByte(q0).Store(q);
        Avx512F.ConvertToVector128SByte(q1).Store(q + 16);
        return Vector512.Sum(q0 + q1);
    }

    private static int Block256(float* x, sbyte* q, out float d, bool cpu)
    {
        Vector256<float> v0 = Vector256.Load(x), v1 = Vector256.Load(x + 8), v2 = Vector256.Load(x + 16), v3 = Vector256.Load(x + 24);
        Vector256<float> m = Vector256.MaxNative(
            Vector256.MaxNative(Vector256.Abs(v0), Vector256.Abs(v1)),
            Vector256.MaxNative(Vector256.Abs(v2), Vector256.Abs(v3)));
        float amax = Max(m);
        d = amax / 127;
        Vector256<float> id = Vector256.Create(InverseScale(amax, d, cpu));
        Vector256<int> q0 = Vector256.ConvertToInt32Native(Round(v0 * id, cpu));
        Vector256<int> q1 = Vector256.ConvertToInt32Native(Round(v1 * id, cpu));
        Vector256<int> q2 = Vector256.ConvertToInt32Native(Round(v2 * id, cpu));
        Vector256<int> q3 = Vector256.ConvertToInt32Native(Round(v3 * id, cpu));
        Vector256.Narrow(Vector256.Narrow(q0, q1), Vector256.Narrow(q2, q3)).Store(q);
        return Vector256.Sum((q0 + q1) + (q2 + q3));
    }

    private static int Block128(float* x, sbyte* q, out float d, bool cpu)
    {
        Vector128<float> m = Vector128<float>.Zero;
        for (int j = 0; j < LegacyBlock.Size; j += 4)
        {
            m = Vector128.MaxNative(m, Vector128.Abs(Vector128.Load(x + j)));
        }
        float amax = Max(m);
        d = amax / 127;
        Vector128<float> id = Vector128.Create(InverseScale(amax, d, cpu));
        Vector128<int> sum = Vector128<int>.Zero;
        for (int j = 0; j < LegacyBlock.Size; j += 16)
        {
            Vector128<int> q0 = Vector128.ConvertToInt32Native(Round(Vector128.Load(x + j) * id, cpu));
            Vector128<int> q1 = Vector128.ConvertToInt32Native(Round(Vector128.Load(x + j + 4) * id, cpu));
            Vector128<int> q2 = Vector128.ConvertToInt32Native(Round(Vector128.Load(x + j + 8) * id, cpu));
            Vector128<int> q3 = Vector128.ConvertToInt32Native(Round(Vector128.Load(x + j + 12) * id, cpu));
            Vector128.Narrow(Vector128.Narrow(q0, q1), Vector128.Narrow(q2, q3)).Store(q + j);
            sum += (q0 + q1) + (q2 + q3);
        }
        return Vector128.Sum(sum);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Max(Vector256<float> m) => Max(Vector128.MaxNative(m.GetLower(), m.GetUpper()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Max(Vector128<float> m)
    {
        m = Vector128.MaxNative(m, Vector128.Shuffle(m, Vector128.Create(2, 3, 0, 1)));
        m = Vector128.MaxNative(m, Vector128.Shuffle(m, Vector128.Create(1, 0, 3, 2)));
        return m.ToScalar();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Round(Vector512<float> v, bool cpu) => cpu ? Vector512.Round(v) : RoundAway(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Round(Vector256<float> v, bool cpu) => cpu ? Vector256.Round(v) : RoundAway(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Round(Vector128<float> v, bool cpu) => cpu ? Vector128.Round(v) : RoundAway(v);

    // roundf: truncate, then step one away from zero when the dropped fraction is at least one half.
    // v - trunc(v) is exact for |v| below 2^23, and the quants here are within 127.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> RoundAway(Vector512<float> v)
    {
        Vector512<float> t = Vector512.Truncate(v);
        Vector512<float> up = Vector512.GreaterThanOrEqual(Vector512.Abs(v - t), Vector512.Create(0.5f));
        return t + (up & (Vector512.Create(1.0f) | (v & Vector512.Create(-0.0f))));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> RoundAway(Vector256<float> v)
    {
        Vector256<float> t = Vector256.Truncate(v);
        Vector256<float> up = Vector256.GreaterThanOrEqual(Vector256.Abs(v - t), Vector256.Create(0.5f));
        return t + (up & (Vector256.Create(1.0f) | (v & Vector256.Create(-0.0f))));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> RoundAway(Vector128<float> v)
    {
        Vector128<float> t = Vector128.Truncate(v);
        Vector128<float> up = Vector128.GreaterThanOrEqual(Vector128.Abs(v - t), Vector128.Create(0.5f));
        return t + (up & (Vector128.Create(1.0f) | (v & Vector128.Create(-0.0f))));
    }
}
