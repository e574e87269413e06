using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// bfloat16 (the top half of a binary32) to and from float. Widening is a shift. Narrowing follows ggml's
/// <c>ggml_compute_fp32_to_bf16</c> (ggml-impl.h): round to nearest even by adding 0x7FFF plus the lowest kept bit,
/// and a NaN keeps its top bits with the quiet bit (0x40) forced on. Subnormals are kept, not flushed.
/// </summary>
internal static class BF16Conversions
{
    private const uint AbsMask = 0x7FFF_FFFFu;
    private const uint Infinity = 0x7F80_0000u;

    /// <summary>Exact widening of the bfloat16 with bits <paramref name="b"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToFloat(ushort b) => BitConverter.UInt32BitsToSingle((uint)b << 16);

    /// <summary>Bits of <paramref name="f"/> rounded to bfloat16, as ggml does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromFloat(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        if ((u & AbsMask) > Infinity)
        {
            return (ushort)((u >> 16) | 64);
        }
        return (ushort)((u + (0x7FFFu + ((u >> 16) & 1))) >> 16);
    }

    /// <summary>Bfloat16 bits zero-extended in 32-bit lanes, to floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ToFloat(Vector128<uint> b) => Vector128.ShiftLeft(b, 16).AsSingle();

    /// <inheritdoc cref="ToFloat(Vector128{uint})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ToFloat(Vector256<uint> b) => Vector256.ShiftLeft(b, 16).AsSingle();

    /// <inheritdoc cref="ToFloat(Vector128{uint})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ToFloat(Vector512<uint> b) => Vector512.ShiftLeft(b, 16).AsSingle();

    /// <summary>Floats to bfloat16 bits in the low 16 bits of 32-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<uint> FromFloat(Vector128<float> f)
    {
        Vector128<uint> u = f.AsUInt32();
        Vector128<uint> rounded = Vector128.ShiftRightLogical(u + Vector128.Create(0x7FFFu) + (Vector128.ShiftRightLogical(u, 16) & Vector128<uint>.One), 16);
        Vector128<uint> nan = Vector128.ShiftRightLogical(u, 16) | Vector128.Create(64u);
        return Vector128.ConditionalSelect(Vector128.GreaterThan(u & Vector128.Create(AbsMask), Vector128.Create(Infinity)), nan, rounded);
    }

    /// <inheritdoc cref="FromFloat(Vector128{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> FromFloat(Vector256<float> f)
    {
        Vector256<uint> u = f.AsUInt32();
        Vector256<uint> rounded = Vector256.ShiftRightLogical(u + Vector256.Create(0x7FFFu) + (Vector256.ShiftRightLogical(u, 16) & Vector256<uint>.One), 16);
        Vector256<uint> nan = Vector256.ShiftRightLogical(u, 16) | Vector256.Create(64u);
        return Vector256.ConditionalSelect(Vector256.GreaterThan(u & Vector256.Create(AbsMask), Vector256.Create(Infinity)), nan, rounded);
    }

    /// <inheritdoc cref="FromFloat(Vector128{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> FromFloat(Vector512<float> f)
    {
        Vector512<uint> u = f.AsUInt32();
        Vector512<uint> rounded = Vector512.ShiftRightLogical(u + Vector512.Create(0x7FFFu) + (Vector512.ShiftRightLogical(u, 16) & Vector512<uint>.One), 16);
        Vector512<uint> nan = Vector512.ShiftRightLogical(u, 16) | Vector512.Create(64u);
        return Vector512.ConditionalSelect(Vector512.GreaterThan(u & Vector512.Create(AbsMask), Vector512.Create(Infinity)), nan, rounded);
    }
}
