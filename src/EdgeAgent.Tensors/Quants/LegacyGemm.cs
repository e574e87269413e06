using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// One legacy weight format's half of <see cref="LegacyGemm"/>: a block pair of weights unpacked to registers and the
/// preparation of a pair of Q8_0 activation blocks for it.
/// </summary>
internal unsafe interface ILegacyGemmFormat
{
    static abstract int WeightBytes { get; }

    /// <summary>Weight blocks <paramref name="x0"/> and the next one, unpacked (one or two vectors).</summary>
    static abstract void Load(byte* x0, out Vector512<byte> a, out Vector512<byte> b);

    /// <summary>Writes the <see cref="LegacyGemm.PairBytes"/> prepared bytes of Q8_0 blocks <paramref name="y0"/>, y0 + 34.</summary>
    static abstract void Prepare(byte* y0, byte* prepared);
}

/// <summary>
/// Multi-row, multi-column legacy-quant matmul for AVX-512 on the file's own layout (ggml's idea of reusing each load
/// across a tile, no repacking): the Q8_0 activations are prepared once per matmul (bytes in dot-ready form, the
/// offset correction of Q4_0, the fp16 scales as floats apart) and shared by every row; the tiles are
/// <see cref="Q4_0BlockSums"/>' and <see cref="Q8_0BlockSums"/>' (whole-block integer sums), whose arithmetic per
/// output is exactly the format's AVX-512 row dot, so results are bit-identical to the row-by-row <c>VecDot</c>. Used
/// for an even block count only.
/// </summary>
internal static unsafe class LegacyGemm
{
    /// <summary>Prepared bytes per activation block pair: two 64-byte operands (the scales are kept apart, see
    /// <see cref="DecodeScales"/>).</summary>
    public const int PairBytes = 128;

    /// <summary>True when <paramref name="type"/> weights of <paramref name="cols"/> columns take this path here.</summary>
    public static bool Supports(GgmlType type, int cols) =>
        LegacyIsas.Best == LegacyIsa.Avx512 && (type is GgmlType.Q4_0 or GgmlType.Q8_0) && cols % 64 == 0;

    /// <summary>
    /// Prepared bytes of one activation row of <paramref name="cols"/> values: the pairs (<see cref="PairBytes"/> each),
    /// then the pairs' two activation scales as floats (8 bytes a pair, see <see cref="DecodeScales"/>), then Q4_0's
    /// block offset sums (4 bytes a pair, see <see cref="BlockOffsets"/>).
    /// </summary>
    public static int PreparedBytes(int cols) => (cols / 64 * PairBytes) + (((cols / 64 * 8) + 63) & ~63) + (((cols / 64 * 4) + 63) & ~63);

    /// <summary>
    /// Where a prepared row's scales start: per pair <c>d(y0), d(y1)</c> as floats, read by every tile. (Q4_0's decode
    /// tile reads only the pairs' first operands besides, forming the offset term in a register.)
    /// </summary>
    public static byte* DecodeScales(byte* prepared, int pairs) => prepared + ((long)pairs * PairBytes);

    /// <summary>
    /// Where a prepared row's block offset sums start (Q4_0 only): per pair two int16, <c>8·Σ y</c> over block 0 and
    /// over block 1 — the sum of the block's offset words, which <see cref="Q4_0BlockSums"/>' 4 × 4 tile subtracts once
    /// from its tree's block sums instead of from each of its sixteen products.
    /// </summary>
    public static byte* BlockOffsets(byte* prepared, int pairs) => DecodeScales(prepared, pairs) + ((((long)pairs * 8) + 63) & ~63);

    /// <summary>Prepares one Q8_0 activation row (<paramref name="nb"/> blocks, even) for weights of <paramref name="type"/>.</summary>
    public static void Prepare(GgmlType type, byte* q8, int nb, byte* prepared)
    {
        if (type == GgmlType.Q4_0)
        {
            Prepare<Q4_0Gemm>(q8, nb, prepared);
        }
        else
        {
            Prepare<Q8_0Gemm>(q8, nb, prepared);
        }
    }

    /// <summary>
    /// <c>y[b·yStride + r] = W[r]·x[b]</c> for rows [r0, r1) and every activation row b &lt; batch, x given prepared
    /// (<paramref name="prepStride"/> bytes per row).
    /// </summary>
    public static void Run(GgmlType type, byte* w, int rowBytes, int nb, byte* prepared, int prepStride, int batch, int r0, int r1, float* y, int yStride)
    {
        if (type == GgmlType.Q4_0)
        {
            BlockSumGemm.RunFile<Q4_0Tiles<FileRows>>(w, rowBytes, nb, prepared, prepStride, batch, r0, r1, y, yStride);
        }
        else
        {
            BlockSumGemm.RunFile<Q8_0Tiles<FileRows8>>(w, rowBytes, nb, prepared, prepStride, batch, r0, r1, y, yStride);
        }
    }

    /// <summary>Σ of a Q8_0 block's 32 values (|Σ| ≤ 4,064, so 8·Σ fits an int16).</summary>
    private static int BlockSum(sbyte* q) =>
        Vector256.Sum(Avx2.ConvertToVector256Int16(Vector128.Load(q)) + Avx2.ConvertToVector256Int16(Vector128.Load(q + 16)));

    private static void Prepare<T>(byte* q8, int nb, byte* prepared)
        where T : struct, ILegacyGemmFormat
    {
        float* scales = (float*)DecodeScales(prepared, nb / 2);
        short* offsets = (short*)BlockOffsets(prepared, nb / 2);
        for (int ib = 0; ib + 2 <= nb; ib += 2)
        {
            byte* y0 = q8 + (ib * BlockQ8_0.Bytes);
            T.Prepare(y0, prepared + (ib / 2 * PairBytes));
            scales[ib] = Fp16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(y0));
            scales[ib + 1] = Fp16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(y0 + BlockQ8_0.Bytes));
            offsets[ib] = (short)(8 * BlockSum((sbyte*)(y0 + 2)));
            offsets[ib + 1] = (short)(8 * BlockSum((sbyte*)(y0 + BlockQ8_0.Bytes + 2)));
        }
    }

}

/// <summary>Q4_0: nibbles as unsigned bytes; the prepared pair holds the activation bytes and <c>maddubs(8, s)</c>,
/// so <c>maddubs(u, s) - maddubs(8, s)</c> is Σ(u − 8)·s over element pairs (<see cref="Q4_0BlockSums"/>).</summary>
internal readonly unsafe struct Q4_0Gemm : ILegacyGemmFormat
{
    public static int WeightBytes => BlockQ4_0.Bytes;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(byte* x0, out Vector512<byte> a, out Vector512<byte> b)
    {
        a = LegacyInt8.Nibbles(Vector128.Load(x0 + 2), Vector128.Load(x0 + BlockQ4_0.Bytes + 2));
        b = default;
    }

    /// <summary>The offset term <c>maddubs(8, s)</c> of activation bytes <paramref name="s"/> (the second prepared operand).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<short> Offset(Vector512<sbyte> s) => Avx512BW.MultiplyAddAdjacent(Vector512.Create((byte)8), s);

    public static void Prepare(byte* y0, byte* prepared)
    {
        Vector512<sbyte> s = LegacyInt8.Load2(y0 + 2, y0 + BlockQ8_0.Bytes + 2);
        s.Store((sbyte*)prepared);
        Offset(s).Store((short*)(prepared + 64));
    }
}

/// <summary>
/// Q8_0: signed bytes widened to int16: operand A holds bytes 0..15 of both blocks and B bytes 16..31, so
/// <c>madd(A) + madd(B)</c> gives int32 lanes of four products each, lanes 0..7 block 0 and 8..15 block 1
/// (<see cref="Q8_0BlockSums"/>).
/// </summary>
internal readonly unsafe struct Q8_0Gemm : ILegacyGemmFormat
{
    public static int WeightBytes => BlockQ8_0.Bytes;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Widen(byte* p0, byte* p1) =>
        Avx512BW.ConvertToVector512Int16(Vector256.Create(Vector128.Load((sbyte*)p0), Vector128.Load((sbyte*)p1)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(byte* x0, out Vector512<byte> a, out Vector512<byte> b)
    {
        byte* x1 = x0 + BlockQ8_0.Bytes;
        a = Widen(x0 + 2, x1 + 2).AsByte();
        b = Widen(x0 + 18, x1 + 18).AsByte();
    }

    public static void Prepare(byte* y0, byte* prepared)
    {
        byte* y1 = y0 + BlockQ8_0.Bytes;
        Widen(y0 + 2, y1 + 2).Store((short*)prepared);
        Widen(y0 + 18, y1 + 18).Store((short*)(prepared + 64));
    }
}
