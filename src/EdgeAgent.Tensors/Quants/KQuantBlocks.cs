using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// Byte layouts of the K-quant super-blocks (ggml-common.h, QK_K = 256). Each block is a packed C struct, so the
/// offsets below are the field offsets; fp16 fields are IEEE half, little-endian.
/// </summary>
internal static class KQuantBlocks
{
    public const int QK = GgmlTypes.QK_K;

    // block_q2_K { uint8 scales[16]; uint8 qs[64]; half d; half dmin; } : low nibble of a scale byte is the
    // 4-bit scale, high nibble the 4-bit min, one pair per 16 elements.
    public const int Q2Bytes = 84;
    public const int Q2Scales = 0, Q2Qs = 16, Q2D = 80, Q2DMin = 82;

    // block_q3_K { uint8 hmask[32]; uint8 qs[64]; uint8 scales[12]; half d; } : 16 signed 6-bit scales.
    public const int Q3Bytes = 110;
    public const int Q3HMask = 0, Q3Qs = 32, Q3Scales = 96, Q3D = 108;

    // block_q4_K { half d; half dmin; uint8 scales[12]; uint8 qs[128]; } : 8 (scale, min) 6-bit pairs.
    public const int Q4Bytes = 144;
    public const int Q4D = 0, Q4DMin = 2, Q4Scales = 4, Q4Qs = 16;

    // block_q5_K { half d; half dmin; uint8 scales[12]; uint8 qh[32]; uint8 qs[128]; }
    public const int Q5Bytes = 176;
    public const int Q5D = 0, Q5DMin = 2, Q5Scales = 4, Q5Qh = 16, Q5Qs = 48;

    // block_q6_K { uint8 ql[128]; uint8 qh[64]; int8 scales[16]; half d; }
    public const int Q6Bytes = 210;
    public const int Q6Ql = 0, Q6Qh = 128, Q6Scales = 192, Q6D = 208;

    // block_q8_K { float d; int8 qs[256]; int16 bsums[16]; } : bsums[j] = sum of qs[16j .. 16j+15].
    public const int Q8Bytes = 292;
    public const int Q8D = 0, Q8Qs = 4, Q8BSums = 260;

    /// <summary>ggml's GROUP_MAX_EPS: a group whose largest magnitude is below this is treated as all zero.</summary>
    public const float GroupMaxEps = 1e-15f;

    /// <summary>GGML_FP16_TO_FP32 (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe float ReadHalf(byte* p) => HalfToSingle(Unsafe.ReadUnaligned<ushort>(p));

    /// <summary>
    /// Exact fp16 → fp32 without branches (.NET exposes no vcvtph2ps), built as ggml's scalar
    /// <c>ggml_compute_fp16_to_fp32</c> does (after Maratyszcza's FP16 library): normals, infinities and NaNs get their
    /// exponent re-biased by a multiply with 2^-112; subnormals are the mantissa placed under the exponent of 0.5,
    /// minus 0.5. Equal to <c>(float)(Half)h</c> for every finite and infinite input (a unit test checks all 65536).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HalfToSingle(ushort h)
    {
        uint w = (uint)h << 16;
        uint sign = w & 0x80000000u;
        uint twoW = w + w;
        float normalized = BitConverter.UInt32BitsToSingle((twoW >> 4) + (0xE0u << 23)) * 1.925929944387236e-34f; // 2^-112
        float denormalized = BitConverter.UInt32BitsToSingle((twoW >> 17) | (126u << 23)) - 0.5f;
        uint bits = twoW < (1u << 27) ? BitConverter.SingleToUInt32Bits(denormalized) : BitConverter.SingleToUInt32Bits(normalized);
        return BitConverter.UInt32BitsToSingle(sign | bits);
    }

    /// <summary>
    /// <see cref="HalfToSingle"/> of the two fp16 values at <paramref name="p"/> (a K-quant block's d and dmin) in the
    /// lanes of one vector: the same operations, so the same results, for both at once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe (float First, float Second) ReadHalves(byte* p)
    {
        Vector128<uint> w = Vector128.WidenLower(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<uint>(p)).AsUInt16()) << 16;
        Vector128<uint> sign = w & Vector128.Create(0x80000000u);
        Vector128<uint> twoW = w + w;
        Vector128<float> normalized = ((twoW >> 4) + Vector128.Create(0xE0u << 23)).AsSingle() * Vector128.Create(1.925929944387236e-34f);
        Vector128<float> denormalized = ((twoW >> 17) | Vector128.Create(126u << 23)).AsSingle() - Vector128.Create(0.5f);
        Vector128<uint> small = Vector128.LessThan(twoW, Vector128.Create(1u << 27));
        Vector128<float> f = (sign | Vector128.ConditionalSelect(small, denormalized.AsUInt32(), normalized.AsUInt32())).AsSingle();
        return (f.ToScalar(), f.GetElement(1));
    }

    /// <summary>GGML_FP32_TO_FP16: round to nearest even, like the F16C instruction and ggml's scalar fallback.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void WriteHalf(byte* p, float value) => Unsafe.WriteUnaligned(p, BitConverter.HalfToUInt16Bits((Half)value));

    /// <summary>
    /// ggml's <c>nearest_int</c>: adding 1.5·2^23 leaves round-half-to-even(fval) in the low mantissa bits. Valid for
    /// |fval| ≤ 4194303; beyond that it wraps exactly as the C code does in release builds, which we reproduce on purpose.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NearestInt(float fval)
    {
        float val = fval + 12582912f;
        return (BitConverter.SingleToInt32Bits(val) & 0x007fffff) - 0x00400000;
    }

    /// <summary>ggml's <c>get_scale_min_k4</c>: the j-th 6-bit (scale, min) pair of a q4_K/q5_K scales[12] array.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void GetScaleMinK4(int j, byte* q, out byte d, out byte m)
    {
        if (j < 4)
        {
            d = (byte)(q[j] & 63);
            m = (byte)(q[j + 4] & 63);
        }
        else
        {
            d = (byte)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
            m = (byte)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
        }
    }

    /// <summary>
    /// Unpacks the 12 scale bytes of q4_K/q5_K into 8 six-bit scales (low 8 bytes of the result) and 8 mins (high 8
    /// bytes), with 32-bit mask arithmetic as ggml's vec-dot kernels do (same result as <see cref="GetScaleMinK4"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void UnpackScalesK4(byte* scales, out ulong sc, out ulong mins)
    {
        const uint kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
        uint u0 = Unsafe.ReadUnaligned<uint>(scales);
        uint u1 = Unsafe.ReadUnaligned<uint>(scales + 4);
        uint u2 = Unsafe.ReadUnaligned<uint>(scales + 8);
        uint s0 = u0 & kmask1;
        uint s1 = (u2 & kmask2) | (((u0 >> 6) & kmask3) << 4);
        uint m0 = u1 & kmask1;
        uint m1 = ((u2 >> 4) & kmask2) | (((u1 >> 6) & kmask3) << 4);
        sc = s0 | ((ulong)s1 << 32);
        mins = m0 | ((ulong)m1 << 32);
    }

    /// <summary>
    /// Unpacks the 12 scale bytes of q3_K into 16 six-bit values 0..63 (subtract 32 for the signed scale): low nibbles
    /// come from bytes 0..7 (both halves), the top two bits from bytes 8..11, as in ggml's dequantize_row_q3_K.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void UnpackScalesQ3(byte* scales, out uint a0, out uint a1, out uint a2, out uint a3)
    {
        const uint kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
        uint x0 = Unsafe.ReadUnaligned<uint>(scales);
        uint x1 = Unsafe.ReadUnaligned<uint>(scales + 4);
        uint tmp = Unsafe.ReadUnaligned<uint>(scales + 8);
        a0 = (x0 & kmask2) | (((tmp >> 0) & kmask1) << 4);
        a1 = (x1 & kmask2) | (((tmp >> 2) & kmask1) << 4);
        a2 = ((x0 >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
        a3 = ((x1 >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
    }
}

/// <summary>Argument checks shared by the K-quant entry points; failures go through throw helpers to keep callers small.</summary>
internal static class KQuantArgs
{
    /// <summary>Blocks in a dequantize call: dst is whole super-blocks and src holds them.</summary>
    public static int DequantizeBlocks(int srcBytes, int dstElements, int blockBytes, string type)
    {
        if (dstElements % KQuantBlocks.QK != 0)
        {
            ThrowNotWholeBlocks("dst", dstElements, type);
        }
        int nb = dstElements / KQuantBlocks.QK;
        if ((long)nb * blockBytes > srcBytes)
        {
            ThrowTooShort("src", srcBytes, (long)nb * blockBytes, type);
        }
        return nb;
    }

    /// <summary>Blocks in a quantize call: <paramref name="srcElements"/> is whole super-blocks and dst has room.</summary>
    public static int QuantizeBlocks(int srcElements, int dstBytes, int blockBytes, string type)
    {
        if (srcElements % KQuantBlocks.QK != 0)
        {
            ThrowNotWholeBlocks("src", srcElements, type);
        }
        int nb = srcElements / KQuantBlocks.QK;
        if ((long)nb * blockBytes > dstBytes)
        {
            ThrowTooShort("dst", dstBytes, (long)nb * blockBytes, type);
        }
        return nb;
    }

    /// <summary>Blocks in a dot product of <paramref name="n"/> elements against Q8_K activations.</summary>
    public static int DotBlocks(int weightBytes, int activationBytes, int n, int blockBytes, string type)
    {
        if (n < 0 || n % KQuantBlocks.QK != 0)
        {
            ThrowBadCount(n, type);
        }
        int nb = n / KQuantBlocks.QK;
        if ((long)nb * blockBytes > weightBytes)
        {
            ThrowTooShort("weights", weightBytes, (long)nb * blockBytes, type);
        }
        if ((long)nb * KQuantBlocks.Q8Bytes > activationBytes)
        {
            ThrowTooShort("activations", activationBytes, (long)nb * KQuantBlocks.Q8Bytes, "Q8_K");
        }
        return nb;
    }

    [DoesNotReturn]
    private static void ThrowNotWholeBlocks(string param, int elements, string type) =>
        throw new ArgumentException($"{type}: {elements} elements is not a whole number of {KQuantBlocks.QK}-element super-blocks", param);

    [DoesNotReturn]
    private static void ThrowTooShort(string param, int have, long need, string type) =>
        throw new ArgumentException($"{type}: {param} holds {have} bytes, {need} needed", param);

    [DoesNotReturn]
    private static void ThrowBadCount(int n, string type) =>
        throw new ArgumentOutOfRangeException(nameof(n), n, $"{type}: n must be a non-negative multiple of {KQuantBlocks.QK}");
}
