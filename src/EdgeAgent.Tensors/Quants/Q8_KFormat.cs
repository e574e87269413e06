using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static EdgeAgent.Tensors.Quants.KQuantBlocks;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// GGML Q8_K: the activation format every K-quant dot product pairs with. A 256-element block holds a float32
/// scale d, int8 levels and the sums of each 16 levels (bsums), which the kernels use for the min/offset terms.
/// </summary>
public static unsafe class Q8_KFormat
{
    /// <summary>ggml's dequantize_row_q8_K: element = d·q.</summary>
    /// <exception cref="ArgumentException">dst is not whole blocks, or src is shorter than they need.</exception>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = KQuantArgs.DequantizeBlocks(src.Length, dst.Length, Q8Bytes, "Q8_K");
        fixed (byte* x = src)
        fixed (float* y = dst)
        {
            byte* b = x;
            float* o = y;
            for (int i = 0; i < nb; i++, b += Q8Bytes, o += QK)
            {
                float d = Unsafe.ReadUnaligned<float>(b + Q8D);
                sbyte* q = (sbyte*)(b + Q8Qs);
                for (int j = 0; j < QK; ++j)
                {
                    o[j] = d * q[j];
                }
            }
        }
    }

    /// <summary>
    /// ggml's quantize_row_q8_K_ref: the signed value of largest magnitude (first one on ties) maps to −127 via
    /// iscale = −127/max, levels are nearest_int(iscale·x) capped at 127, d = 1/iscale. An all-zero block gets
    /// d = 0 and zero levels; its bsums are written as zero (ggml leaves them untouched there).
    /// </summary>
    /// <exception cref="ArgumentException">src is not whole blocks, or dst is too short.</exception>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = KQuantArgs.QuantizeBlocks(src.Length, dst.Length, Q8Bytes, "Q8_K");
        fixed (float* xp = src)
        fixed (byte* yp = dst)
        {
            float* x = xp;
            byte* y = yp;
            for (int i = 0; i < nb; i++, x += QK, y += Q8Bytes)
            {
                float max = 0;
                float amax = 0;
                for (int j = 0; j < QK; ++j)
                {
                    float ax = MathF.Abs(x[j]);
                    if (ax > amax)
                    {
                        amax = ax;
                        max = x[j];
                    }
                }
                if (amax == 0f)
                {
                    ZeroBlock(y);
                    continue;
                }
                float iscale = -127f / max;
                sbyte* q = (sbyte*)(y + Q8Qs);
                for (int j = 0; j < QK; ++j)
                {
                    q[j] = (sbyte)Math.Min(127, NearestInt(iscale * x[j]));
                }
                short* bsums = (short*)(y + Q8BSums);
                for (int j = 0; j < QK / 16; ++j)
                {
                    int sum = 0;
                    for (int ii = 0; ii < 16; ++ii)
                    {
                        sum += q[j * 16 + ii];
                    }
                    bsums[j] = (short)sum;
                }
                Unsafe.WriteUnaligned(y + Q8D, 1 / iscale);
            }
        }
    }

    /// <summary>
    /// Quantizes activations to Q8_K with SIMD; byte-identical to <see cref="QuantizeReference"/> (same max search,
    /// same float multiply and nearest_int rounding trick, per lane).
    /// </summary>
    /// <exception cref="ArgumentException">src is not whole blocks, or dst is too short.</exception>
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst) => Quantize(KQuantDot.Best, src, dst);

    internal static void Quantize(KIsa isa, ReadOnlySpan<float> src, Span<byte> dst)
    {
        if (isa == KIsa.Scalar)
        {
            QuantizeReference(src, dst);
            return;
        }
        int nb = KQuantArgs.QuantizeBlocks(src.Length, dst.Length, Q8Bytes, "Q8_K");
        fixed (float* xp = src)
        fixed (byte* yp = dst)
        {
            float* x = xp;
            byte* y = yp;
            for (int i = 0; i < nb; i++, x += QK, y += Q8Bytes)
            {
                float max = SignedAbsMax(x, isa);
                if (max == 0f)
                {
                    ZeroBlock(y);
                    continue;
                }
                float iscale = -127f / max;
                if (isa == KIsa.Avx512 && Avx512F.IsSupported)
                {
                    Levels512(x, y, iscale);
                }
                else
                {
                    Levels128(x, y, iscale);
                }
                Unsafe.WriteUnaligned(y + Q8D, 1 / iscale);
            }
        }
    }

    private static void ZeroBlock(byte* y) => new Span<byte>(y, Q8Bytes).Clear();

    /// <summary>The first element of largest magnitude, with its sign (0 when all are zero).</summary>
    private static float SignedAbsMax(float* x, KIsa isa)
    {
        if (isa >= KIsa.Avx2 && Vector256.IsHardwareAccelerated)
        {
            Vector256<float> m = Vector256.Abs(Vector256.Load(x));
            for (int j = 8; j < QK; j += 8)
            {
                m = Vector256.Max(m, Vector256.Abs(Vector256.Load(x + j)));
            }
            Vector128<float> h = Vector128.Max(m.GetLower(), m.GetUpper());
            h = Vector128.Max(h, Vector128.Shuffle(h, Vector128.Create(2, 3, 0, 1)));
            Vector256<float> amax = Vector256.Create(MathF.Max(h.GetElement(0), h.GetElement(1)));
            for (int j = 0; j < QK; j += 8)
            {
                uint hit = Vector256.Equals(Vector256.Abs(Vector256.Load(x + j)), amax).ExtractMostSignificantBits();
                if (hit != 0)
                {
                    return x[j + BitOperations.TrailingZeroCount(hit)];
                }
            }
            return 0f;
        }
        else
        {
            Vector128<float> m = Vector128.Abs(Vector128.Load(x));
            for (int j = 4; j < QK; j += 4)
            {
                m = Vector128.Max(m, Vector128.Abs(Vector128.Load(x + j)));
            }
            m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(2, 3, 0, 1)));
            Vector128<float> amax = Vector128.Create(MathF.Max(m.GetElement(0), m.GetElement(1)));
            for (int j = 0; j < QK; j += 4)
            {
                uint hit = Vector128.Equals(Vector128.Abs(Vector128.Load(x + j)), amax).ExtractMostSignificantBits();
                if (hit != 0)
                {
                    return x[j + BitOperations.TrailingZeroCount(hit)];
                }
            }
            return 0f;
        }
    }

    /// <summary>nearest_int per lane: the same 1.5·2^23 addition and mantissa extraction as the scalar code.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> NearestIntLanes(Vector512<float> v) =>
        ((v + Vector512.Create(12582912f)).AsInt32() & Vector512.Create(0x007fffff)) - Vector512.Create(0x00400000);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> NearestIntLanes(Vector128<float> v) =>
        ((v + Vector128.Create(12582912f)).AsInt32() & Vector128.Create(0x007fffff)) - Vector128.Create(0x00400000);

    private static void Levels512(float* x, byte* y, float iscale)
    {
        Vector512<float> s = Vector512.Create(iscale);
        Vector512<int> cap = Vector512.Create(127);
        sbyte* q = (sbyte*)(y + Q8Qs);
        short* bsums = (short*)(y + Q8BSums);
        for (int g = 0; g < QK / 16; g++)
        {
            Vector512<int> l = Vector512.Min(NearestIntLanes(Vector512.Load(x + 16 * g) * s), cap);
            bsums[g] = (short)Vector512.Sum(l);
            Avx512F.ConvertToVector128SByte(l).Store(q + 16 * g);
        }
    }

    // Portable: four 4-lane groups narrowed int32 → int16 → int8 (values are within [−127, 127]).
    private static void Levels128(float* x, byte* y, float iscale)
    {
        Vector128<float> s = Vector128.Create(iscale);
        Vector128<int> cap = Vector128.Create(127);
        sbyte* q = (sbyte*)(y + Q8Qs);
        short* bsums = (short*)(y + Q8BSums);
        for (int g = 0; g < QK / 16; g++)
        {
            float* xg = x + 16 * g;
            Vector128<int> l0 = Vector128.Min(NearestIntLanes(Vector128.Load(xg) * s), cap);
            Vector128<int> l1 = Vector128.Min(NearestIntLanes(Vector128.Load(xg + 4) * s), cap);
            Vector128<int> l2 = Vector128.Min(NearestIntLanes(Vector128.Load(xg + 8) * s), cap);
            Vector128<int> l3 = Vector128.Min(NearestIntLanes(Vector128.Load(xg + 12) * s), cap);
            bsums[g] = (short)Vector128.Sum(l0 + l1 + l2 + l3);
            Vector128.Narrow(Vector128.Narrow(l0, l1), Vector128.Narrow(l2, l3)).Store(q + 16 * g);
        }
    }
}
