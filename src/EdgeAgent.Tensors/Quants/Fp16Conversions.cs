using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// IEEE binary16 to and from binary32, scalar and SIMD. Half to float is exact. Float to half rounds to nearest,
/// ties to even, as <see cref="Half"/>, the F16C instruction <c>vcvtps2ph</c> and ggml's <c>GGML_FP32_TO_FP16</c> do.
/// The branch-free bit tricks are Marat Dukhan's (FP16 library, <c>fp16_ieee_to_fp32_value</c> and
/// <c>fp16_ieee_from_fp32_value</c>), the same ggml uses when it has no F16C. One deliberate change: a NaN keeps its
/// top payload bits and becomes quiet, as with <see cref="Half"/> and F16C, where ggml's software path returns 0x7E00.
/// </summary>
internal static class Fp16Conversions
{
    private const uint SignMask = 0x8000_0000u;
    private const uint ExpOffset = 0xE0u << 23;        // rebias exponent 15 -> 127, less the 112 put back by ExpScale
    private const uint ExpScaleBits = 0x0780_0000u;    // 2^-112
    private const uint MagicMask = 126u << 23;          // 0.5f: subnormal halves are (0.5 + m * 2^-24 * ...) - 0.5
    private const uint DenormCutoff = 1u << 27;         // (2 * w) below this: the half was zero or subnormal
    private const uint ScaleToInfBits = 0x7780_0000u;  // 2^112
    private const uint ScaleToZeroBits = 0x0880_0000u; // 2^-110
    private const uint QuietNaN = 0x7E00u;

    // Every half widened once (256 KiB), like ggml's ggml_table_f32_f16 for CPUs without F16C: .NET exposes no
    // vcvtph2ps, and the per-block scales of the quant dots are converted one at a time, where a load beats the
    // twenty-odd scalar instructions of the bit trick.
    private static readonly float[] Table = BuildTable();

    /// <summary>Exact conversion of the half with bits <paramref name="h"/> (a table lookup).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToFloat(ushort h) => Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Table), (nint)h);

    /// <summary>Exact conversion of the half with bits <paramref name="h"/>, computed (fills the table).</summary>
    internal static float ToFloatComputed(ushort h)
    {
        uint w = (uint)h << 16;
        uint sign = w & SignMask;
        uint twoW = w + w;
        float normalized = BitConverter.UInt32BitsToSingle((twoW >> 4) + ExpOffset) * BitConverter.UInt32BitsToSingle(ExpScaleBits);
        float denormalized = BitConverter.UInt32BitsToSingle((twoW >> 17) | MagicMask) - 0.5f;
        uint bits = twoW < DenormCutoff ? BitConverter.SingleToUInt32Bits(denormalized) : BitConverter.SingleToUInt32Bits(normalized);
        return BitConverter.UInt32BitsToSingle(sign | bits);
    }

    private static float[] BuildTable()
    {
        var table = new float[65536];
        for (int h = 0; h < table.Length; h++)
        {
            table[h] = ToFloatComputed((ushort)h);
        }
        return table;
    }

    /// <summary>Bits of <paramref name="f"/> rounded to half (the reference: <see cref="Half"/>'s own conversion).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromFloat(float f) => BitConverter.HalfToUInt16Bits((Half)f);

    /// <summary>Halves zero-extended in 32-bit lanes, to floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ToFloat(Vector128<uint> h)
    {
        Vector128<uint> w = Vector128.ShiftLeft(h, 16);
        Vector128<uint> sign = w & Vector128.Create(SignMask);
        Vector128<uint> twoW = w + w;
        Vector128<float> normalized = (Vector128.ShiftRightLogical(twoW, 4) + Vector128.Create(ExpOffset)).AsSingle()
            * Vector128.Create(ExpScaleBits).AsSingle();
        Vector128<float> denormalized = (Vector128.ShiftRightLogical(twoW, 17) | Vector128.Create(MagicMask)).AsSingle() - Vector128.Create(0.5f);
        Vector128<uint> isSmall = Vector128.LessThan(twoW, Vector128.Create(DenormCutoff));
        return (sign | Vector128.ConditionalSelect(isSmall, denormalized.AsUInt32(), normalized.AsUInt32())).AsSingle();
    }

    /// <inheritdoc cref="ToFloat(Vector128{uint})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ToFloat(Vector256<uint> h)
    {
        Vector256<uint> w = Vector256.ShiftLeft(h, 16);
        Vector256<uint> sign = w & Vector256.Create(SignMask);
        Vector256<uint> twoW = w + w;
        Vector256<float> normalized = (Vector256.ShiftRightLogical(twoW, 4) + Vector256.Create(ExpOffset)).AsSingle()
            * Vector256.Create(ExpScaleBits).AsSingle();
        Vector256<float> denormalized = (Vector256.ShiftRightLogical(twoW, 17) | Vector256.Create(MagicMask)).AsSingle() - Vector256.Create(0.5f);
        Vector256<uint> isSmall = Vector256.LessThan(twoW, Vector256.Create(DenormCutoff));
        return (sign | Vector256.ConditionalSelect(isSmall, denormalized.AsUInt32(), normalized.AsUInt32())).AsSingle();
    }

    /// <inheritdoc cref="ToFloat(Vector128{uint})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ToFloat(Vector512<uint> h)
    {
        Vector512<uint> w = Vector512.ShiftLeft(h, 16);
        Vector512<uint> sign = w & Vector512.Create(SignMask);
        Vector512<uint> twoW = w + w;
        Vector512<float> normalized = (Vector512.ShiftRightLogical(twoW, 4) + Vector512.Create(ExpOffset)).AsSingle()
            * Vector512.Create(ExpScaleBits).AsSingle();
        Vector512<float> denormalized = (Vector512.ShiftRightLogical(twoW, 17) | Vector512.Create(MagicMask)).AsSingle() - Vector512.Create(0.5f);
        Vector512<uint> isSmall = Vector512.LessThan(twoW, Vector512.Create(DenormCutoff));
        return (sign | Vector512.ConditionalSelect(isSmall, denormalized.AsUInt32(), normalized.AsUInt32())).AsSingle();
    }

    /// <summary>Floats to half bits (round to nearest even) in the low 16 bits of 32-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<uint> FromFloat(Vector128<float> f)
    {
        Vector128<uint> w = f.AsUInt32();
        Vector128<uint> shl1 = w + w;
        Vector128<uint> sign = Vector128.ShiftRightLogical(w & Vector128.Create(SignMask), 16);
        // Scaling by 2^112 then 2^-110 sends values too large for a half to infinity and lines up the rest;
        // adding the bias constant then makes the FPU round the mantissa at half precision.
        Vector128<float> b = Vector128.Abs(f) * Vector128.Create(ScaleToInfBits).AsSingle() * Vector128.Create(ScaleToZeroBits).AsSingle();
        Vector128<uint> bias = Vector128.Max(shl1 & Vector128.Create(0xFF00_0000u), Vector128.Create(0x7100_0000u));
        b = (Vector128.ShiftRightLogical(bias, 1) + Vector128.Create(0x0780_0000u)).AsSingle() + b;
        Vector128<uint> bits = b.AsUInt32();
        Vector128<uint> nonSign = (Vector128.ShiftRightLogical(bits, 13) & Vector128.Create(0x7C00u)) + (bits & Vector128.Create(0x0FFFu));
        Vector128<uint> nan = (Vector128.ShiftRightLogical(w, 13) & Vector128.Create(0x03FFu)) | Vector128.Create(QuietNaN);
        Vector128<uint> isNaN = Vector128.GreaterThan(shl1, Vector128.Create(0xFF00_0000u));
        return sign | Vector128.ConditionalSelect(isNaN, nan, nonSign);
    }

    /// <inheritdoc cref="FromFloat(Vector128{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> FromFloat(Vector256<float> f)
    {
        Vector256<uint> w = f.AsUInt32();
        Vector256<uint> shl1 = w + w;
        Vector256<uint> sign = Vector256.ShiftRightLogical(w & Vector256.Create(SignMask), 16);
        Vector256<float> b = Vector256.Abs(f) * Vector256.Create(ScaleToInfBits).AsSingle() * Vector256.Create(ScaleToZeroBits).AsSingle();
        Vector256<uint> bias = Vector256.Max(shl1 & Vector256.Create(0xFF00_0000u), Vector256.Create(0x7100_0000u));
        b = (Vector256.ShiftRightLogical(bias, 1) + Vector256.Create(0x0780_0000u)).AsSingle() + b;
        Vector256<uint> bits = b.AsUInt32();
        Vector256<uint> nonSign = (Vector256.ShiftRightLogical(bits, 13) & Vector256.Create(0x7C00u)) + (bits & Vector256.Create(0x0FFFu));
        Vector256<uint> nan = (Vector256.ShiftRightLogical(w, 13) & Vector256.Create(0x03FFu)) | Vector256.Create(QuietNaN);
        Vector256<uint> isNaN = Vector256.GreaterThan(shl1, Vector256.Create(0xFF00_0000u));
        return sign | Vector256.ConditionalSelect(isNaN, nan, nonSign);
    }

    /// <inheritdoc cref="FromFloat(Vector128{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> FromFloat(Vector512<float> f)
    {
        Vector512<uint> w = f.AsUInt32();
        Vector512<uint> shl1 = w + w;
        Vector512<uint> sign = Vector512.ShiftRightLogical(w & Vector512.Create(SignMask), 16);
        Vector512<float> b = Vector512.Abs(f) * Vector512.Create(ScaleToInfBits).AsSingle() * Vector512.Create(ScaleToZeroBits).AsSingle();
        Vector512<uint> bias = Vector512.Max(shl1 & Vector512.Create(0xFF00_0000u), Vector512.Create(0x7100_0000u));
        b = (Vector512.ShiftRightLogical(bias, 1) + Vector512.Create(0x0780_0000u)).AsSingle() + b;
        Vector512<uint> bits = b.AsUInt32();
        Vector512<uint> nonSign = (Vector512.ShiftRightLogical(bits, 13) & Vector512.Create(0x7C00u)) + (bits & Vector512.Create(0x0FFFu));
        Vector512<uint> nan = (Vector512.ShiftRightLogical(w, 13) & Vector512.Create(0x03FFu)) | Vector512.Create(QuietNaN);
        Vector512<uint> isNaN = Vector512.GreaterThan(shl1, Vector512.Create(0xFF00_0000u));
        return sign | Vector512.ConditionalSelect(isNaN, nan, nonSign);
    }
}
