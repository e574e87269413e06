using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// Integer building blocks of the legacy dot products: unpacking nibbles and high bits, and exact 8-bit dot
/// products into 32-bit lanes. Exact for every input, unlike the sign trick ggml uses on AVX2 (<c>_mm256_sign_epi8</c>
/// wraps on -128): a file's Q8_0 weights may hold -128 even though ggml's quantizers never write it.
/// </summary>
internal static class LegacyInt8
{
    // ---- portable 128-bit ----

    /// <summary>Lanes summing to <c>sum(a[i] * b[i])</c>, any signed bytes. Products fit int16 (|p| at most 16384).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Dot(Vector128<sbyte> a, Vector128<sbyte> b)
    {
        Vector128<short> lo = Vector128.WidenLower(a) * Vector128.WidenLower(b);
        Vector128<short> hi = Vector128.WidenUpper(a) * Vector128.WidenUpper(b);
        return (Vector128.WidenLower(lo) + Vector128.WidenUpper(lo)) + (Vector128.WidenLower(hi) + Vector128.WidenUpper(hi));
    }

    /// <summary>Low nibbles of <paramref name="q"/> (elements 0..15 of a nibble block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> LowNibbles(Vector128<byte> q) => q & Vector128.Create((byte)0x0F);

    /// <summary>High nibbles of <paramref name="q"/> (elements 16..31 of a nibble block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> HighNibbles(Vector128<byte> q) => Vector128.ShiftRightLogical(q, 4);

    /// <summary>16 bytes, byte j = 0x10 when bit j of <paramref name="bits"/> is set (the fifth bit of 5-bit quants).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> FifthBits(uint bits)
    {
        // Broadcast byte 0 to lanes 0..7 and byte 1 to lanes 8..15 with a multiply, then test one bit per lane.
        Vector128<byte> spread = Vector128.Create((bits & 0xFF) * 0x0101_0101_0101_0101UL, ((bits >> 8) & 0xFF) * 0x0101_0101_0101_0101UL).AsByte();
        Vector128<byte> bit = Vector128.Create(0x8040_2010_0804_0201UL).AsByte();
        return Vector128.Equals(spread & bit, bit) & Vector128.Create((byte)0x10);
    }

    // ---- AVX2 (one block of 32 per call) ----

    /// <summary>All 32 nibbles of a 16-byte nibble block, in element order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Nibbles(Vector128<byte> q) => Vector256.Create(q, HighNibbles(q)) & Vector256.Create((byte)0x0F);

    /// <summary>32 bytes, byte j = 0x10 when bit j of <paramref name="qh"/> is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> FifthBits256(uint qh)
    {
        // vpshufb works within 128-bit lanes; qh is broadcast, so lane 1 finds qh bytes 2 and 3 at its indices 2 and 3.
        Vector256<byte> spread = Avx2.Shuffle(Vector256.Create(qh).AsByte(), Vector256.Create(
            (byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
        Vector256<byte> bit = Vector256.Create(0x8040_2010_0804_0201UL).AsByte();
        return Vector256.Equals(spread & bit, bit) & Vector256.Create((byte)0x10);
    }

    /// <summary>Lanes summing to <c>sum(u[i] * s[i])</c> for <c>u</c> in 0..127 (no int16 saturation in vpmaddubsw).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotUnsigned(Vector256<byte> u, Vector256<sbyte> s)
    {
        if (AvxVnni.IsSupported)
        {
            return AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, u, s);
        }
        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, s), Vector256<short>.One);
    }

    /// <summary>
    /// Lanes summing to <c>sum((u[i] - offset) * s[i])</c> for <c>u</c> in 0..31 and offset at most 16: the offset
    /// term is taken off in int16, where both partial sums and their difference fit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotOffset(Vector256<byte> u, Vector256<sbyte> s, byte offset)
    {
        Vector256<short> p = Avx2.MultiplyAddAdjacent(u, s) - Avx2.MultiplyAddAdjacent(Vector256.Create(offset), s);
        return Avx2.MultiplyAddAdjacent(p, Vector256<short>.One);
    }

    /// <summary>Lanes summing to <c>sum(a[i] * b[i])</c>, any signed bytes: widened to int16, then vpmaddwd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<sbyte> a, Vector256<sbyte> b)
    {
        Vector256<int> lo = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(a.GetLower()), Avx2.ConvertToVector256Int16(b.GetLower()));
        Vector256<int> hi = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(a.GetUpper()), Avx2.ConvertToVector256Int16(b.GetUpper()));
        return lo + hi;
    }

    // ---- AVX-512 (two blocks per call: block 0 in the lower 256 bits, block 1 in the upper) ----

    /// <summary>
    /// Two 256-bit halves as one 512-bit vector. (Vector512.Create(lo, hi) inserts into whatever register the JIT
    /// reuses, which in a loop is a false dependency on the previous iteration; widening lo first avoids it.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Join<T>(Vector256<T> lo, Vector256<T> hi) => lo.ToVector512Unsafe().WithUpper(hi);

    /// <summary>Two 256-bit loads as one 512-bit vector (block 0 low, block 1 high).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<sbyte> Load2(byte* p0, byte* p1) => Join(Vector256.Load((sbyte*)p0), Vector256.Load((sbyte*)p1));

    /// <summary>The nibbles of two 16-byte nibble blocks, each in element order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Nibbles(Vector128<byte> q0, Vector128<byte> q1) =>
        Join(Vector256.Create(q0, HighNibbles(q0)), Vector256.Create(q1, HighNibbles(q1))) & Vector512.Create((byte)0x0F);

    /// <summary>Fifth bits of two blocks: byte j of each half is 0x10 when bit j of its qh is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> FifthBits512(uint qh0, uint qh1)
    {
        Vector512<byte> both = Join(Vector256.Create(qh0), Vector256.Create(qh1)).AsByte();
        Vector512<byte> spread = Avx512BW.Shuffle(both, Vector512.Create(
            (byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
            0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
        Vector512<byte> bit = Vector512.Create(0x8040_2010_0804_0201UL).AsByte();
        return Vector512.Equals(spread & bit, bit) & Vector512.Create((byte)0x10);
    }

    /// <summary>Per-block sums of <c>u * s</c> for <c>u</c> in 0..127: lanes 0..7 block 0, lanes 8..15 block 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> DotUnsigned(Vector512<byte> u, Vector512<sbyte> s) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, s), Vector512<short>.One);

    /// <summary>Per-block sums of <c>(u - offset) * s</c>, as <see cref="DotOffset(Vector256{byte}, Vector256{sbyte}, byte)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> DotOffset(Vector512<byte> u, Vector512<sbyte> s, byte offset)
    {
        Vector512<short> p = Avx512BW.MultiplyAddAdjacent(u, s) - Avx512BW.MultiplyAddAdjacent(Vector512.Create(offset), s);
        return Avx512BW.MultiplyAddAdjacent(p, Vector512<short>.One);
    }

    /// <summary>
    /// Per-block sums of <c>a * b</c>, any signed bytes (block 0 is <paramref name="a0"/>, <paramref name="b0"/>):
    /// lanes 0..7 block 0, lanes 8..15 block 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Dot(Vector256<sbyte> a0, Vector256<sbyte> b0, Vector256<sbyte> a1, Vector256<sbyte> b1)
    {
        Vector512<int> p0 = Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(a0), Avx512BW.ConvertToVector512Int16(b0));
        Vector512<int> p1 = Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(a1), Avx512BW.ConvertToVector512Int16(b1));
        // Fold 16 + 16 lanes to 8 + 8: [p0 low 256 | p1 low 256] + [p0 high 256 | p1 high 256].
        return Avx512F.Shuffle4x128(p0, p1, 0b01_00_01_00) + Avx512F.Shuffle4x128(p0, p1, 0b11_10_11_10);
    }
}
