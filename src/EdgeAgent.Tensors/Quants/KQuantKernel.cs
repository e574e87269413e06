using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// Per-super-block constants a K-quant kernel needs: the fp16 block scales as floats and, per 16-element group,
/// the integer sub-block scale and min. Formats with 32-element sub-blocks (q4_K, q5_K) repeat each value twice.
/// </summary>
internal readonly struct KBlockScales
{
    public readonly float D;
    public readonly float DMin;
    public readonly Vector128<sbyte> Scales;
    public readonly Vector128<sbyte> Mins;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public KBlockScales(float d, float dmin, Vector128<sbyte> scales, Vector128<sbyte> mins)
    {
        D = d;
        DMin = dmin;
        Scales = scales;
        Mins = mins;
    }
}

/// <summary>
/// One K-quant weight format seen by the generic kernels of <see cref="KQuantDot"/> and <see cref="KQuantDequant"/>.
/// Every format decodes to unsigned levels u in q8_K element order, and an element's value is
/// <c>D·scale_g·(u − Offset) − DMin·min_g</c> for its 16-element group g; formats with mins have Offset 0, the
/// symmetric ones (q3_K: 4, q6_K: 32) have no mins. Because u fits in 6 bits, u8×s8 pair sums never saturate int16,
/// which is what lets one vpmaddubsw/vpmaddwd pipeline serve all five formats.
/// </summary>
internal unsafe interface IKQuant<TSelf> where TSelf : struct, IKQuant<TSelf>
{
    /// <summary>Bytes in one super-block.</summary>
    static abstract int BlockBytes { get; }

    /// <summary>Subtracted from every level (0 when the format stores mins).</summary>
    static abstract int Offset { get; }

    /// <summary>Block scales of the super-block at <paramref name="x"/>.</summary>
    static abstract KBlockScales Scales(byte* x);

    /// <summary>Levels of elements 16k .. 16k+15 (k in 0..15).</summary>
    static abstract Vector128<byte> Unpack128(byte* x, int k);

    /// <summary>Levels of elements 32k .. 32k+31 (k in 0..7).</summary>
    static abstract Vector256<byte> Unpack256(byte* x, int k);

    /// <summary>Levels of elements 64k .. 64k+63 (k in 0..3); formats override this when a wide unpack is cheaper.</summary>
    static virtual Vector512<byte> Unpack512(byte* x, int k) =>
        KBits.Concat(TSelf.Unpack256(x, 2 * k), TSelf.Unpack256(x, 2 * k + 1));

    /// <summary>ggml's scalar <c>ggml_vec_dot_*_q8_K_generic</c> over <paramref name="nb"/> super-blocks.</summary>
    static abstract float DotReference(byte* x, byte* y, int nb);

    /// <summary>ggml's scalar <c>dequantize_row_*</c> over <paramref name="nb"/> super-blocks.</summary>
    static abstract void DequantizeReference(byte* x, float* y, int nb);
}

/// <summary>Byte-lane shifts on wider lanes: cheaper than the byte overloads, callers mask away the bits that cross bytes.</summary>
internal static class KBits
{
    /// <summary>
    /// [lo, hi] as one 512-bit vector. vinserti32x8 into lo's own register: Vector512.Create inserts both halves into
    /// one reused register, which chains every step of a loop on the previous one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Concat(Vector256<byte> lo, Vector256<byte> hi) =>
        Avx512F.IsSupported ? Avx512F.InsertVector256(lo.ToVector512Unsafe(), hi, 1) : Vector512.Create(lo, hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Srl(Vector128<byte> v, int n) => Vector128.ShiftRightLogical(v.AsUInt16(), n).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Srl(Vector256<byte> v, int n) => Vector256.ShiftRightLogical(v.AsUInt16(), n).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Srl(Vector512<byte> v, int n) => Vector512.ShiftRightLogical(v.AsUInt16(), n).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Shl(Vector128<byte> v, int n) => Vector128.ShiftLeft(v.AsUInt16(), n).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Shl(Vector256<byte> v, int n) => Vector256.ShiftLeft(v.AsUInt16(), n).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Shl(Vector512<byte> v, int n) => Vector512.ShiftLeft(v.AsUInt16(), n).AsByte();
}
