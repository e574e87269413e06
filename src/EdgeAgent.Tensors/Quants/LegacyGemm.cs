using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// One legacy weight format's half of <see cref="LegacyGemm"/>: a block pair of weights unpacked to registers, its
/// integer dot with a prepared pair of Q8_0 activation blocks, and that preparation. The dot returns exactly the
/// lanes of the format's <see cref="ILegacyBlockDot.Sum512"/> (same integers in the same lanes), so every output is
/// bit-identical to the format's <c>VecDot</c>.
/// </summary>
internal unsafe interface ILegacyGemmFormat
{
    static abstract int WeightBytes { get; }

    /// <summary>Weight blocks <paramref name="x0"/> and the next one, unpacked (one or two vectors).</summary>
    static abstract void Load(byte* x0, out Vector512<byte> a, out Vector512<byte> b);

    /// <summary>Per-block integer sums (lanes 0..7 block 0, 8..15 block 1) against a prepared activation pair.</summary>
    static abstract Vector512<int> Dot(Vector512<byte> a, Vector512<byte> b, byte* prepared);

    /// <summary>Writes the <see cref="LegacyGemm.PairBytes"/> prepared bytes of Q8_0 blocks <paramref name="y0"/>, y0 + 34.</summary>
    static abstract void Prepare(byte* y0, byte* prepared);
}

/// <summary>
/// Multi-row, multi-column legacy-quant matmul for AVX-512 (ggml's idea of reusing each load across a tile, on
/// the file's own layout, no repacking): a tile of 4 weight rows × 4 (or 2, or 1) activation rows unpacks each
/// weight block pair once for all its activations and loads each activation pair once for four rows. The Q8_0 activations are
/// prepared once per matmul (bytes in dot-ready form, the offset correction of Q4_0, the fp16 scales as float
/// vectors) and shared by every row. Per output element the arithmetic is exactly <see cref="LegacyBlockDot"/>'s
/// 512-bit path: the same integer lanes, the same <c>d_x * d_y</c> products, the same FMA sequence per lane and
/// the same final <see cref="Vector512.Sum{T}(Vector512{T})"/>, so results are bit-identical to the row-by-row
/// <c>VecDot</c>. Used for an even block count only (the odd tail block of <c>Dot512</c> is not reproduced).
/// Q4_0 takes <see cref="Q4_0BlockSums"/>'s tiles instead (whole-block integer sums, the arithmetic its row dot has on
/// AVX-512); this class still prepares its activations.
/// </summary>
internal static unsafe class LegacyGemm
{
    /// <summary>Prepared bytes per activation block pair: two 64-byte operands and a 64-byte scale vector.</summary>
    public const int PairBytes = 192;

    /// <summary>Rows per cache block: their weights stay in L1/L2 while every activation pair passes.</summary>
    private const int RowBlock = 16;

    /// <summary>True when <paramref name="type"/> weights of <paramref name="cols"/> columns take this path here.</summary>
    public static bool Supports(GgmlType type, int cols) =>
        LegacyIsas.Best == LegacyIsa.Avx512 && (type is GgmlType.Q4_0 or GgmlType.Q8_0) && cols % 64 == 0;

    /// <summary>
    /// Prepared bytes of one activation row of <paramref name="cols"/> values: the pairs (<see cref="PairBytes"/> each),
    /// then the pairs' two activation scales as floats (8 bytes a pair, see <see cref="DecodeScales"/>).
    /// </summary>
    public static int PreparedBytes(int cols) => (cols / 64 * PairBytes) + (((cols / 64 * 8) + 63) & ~63);

    /// <summary>
    /// Where a prepared row's compact scales start: per pair <c>d(y0), d(y1)</c> as floats. The packed decode tile reads
    /// these and the pairs' first operands only, so a long row's activations take a third of the L1 lines the whole
    /// pairs would (with 5,632 columns 6 KiB instead of 17 KiB beside the streaming weights).
    /// </summary>
    public static byte* DecodeScales(byte* prepared, int pairs) => prepared + ((long)pairs * PairBytes);

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
            Q4_0BlockSums.RunFile(w, rowBytes, nb, prepared, prepStride, batch, r0, r1, y, yStride);
        }
        else
        {
            Q8_0BlockSums.RunFile(w, rowBytes, nb, prepared, prepStride, batch, r0, r1, y, yStride);
        }
    }

    private static void Prepare<T>(byte* q8, int nb, byte* prepared)
        where T : struct, ILegacyGemmFormat
    {
        float* scales = (float*)DecodeScales(prepared, nb / 2);
        for (int ib = 0; ib + 2 <= nb; ib += 2)
        {
            byte* y0 = q8 + (ib * BlockQ8_0.Bytes);
            T.Prepare(y0, prepared + (ib / 2 * PairBytes));
            scales[ib] = Fp16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(y0));
            scales[ib + 1] = Fp16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(y0 + BlockQ8_0.Bytes));
        }
    }

    private static void Run<T>(byte* w, int rowBytes, int nb, byte* prepared, int prepStride, int batch, int r0, int r1, float* y, int yStride)
        where T : struct, ILegacyGemmFormat
    {
        int pairs = nb / 2;
        for (int rb = r0; rb < r1; rb += RowBlock)
        {
            int rEnd = Math.Min(r1, rb + RowBlock);
            int b = 0;
            for (; b + 4 <= batch; b += 4)
            {
                byte* p0 = prepared + ((long)b * prepStride);
                int r = rb;
                for (; r + 4 <= rEnd; r += 4)
                {
                    Tile4x4<T>(w + ((long)r * rowBytes), rowBytes, pairs, p0, prepStride, y + ((long)b * yStride) + r, yStride);
                }
                for (; r < rEnd; r++)
                {
                    for (int j = 0; j < 4; j++)
                    {
                        y[((long)(b + j) * yStride) + r] = Tile1<T>(w + ((long)r * rowBytes), pairs, p0 + ((long)j * prepStride));
                    }
                }
            }
            for (; b + 2 <= batch; b += 2)
            {
                byte* p0 = prepared + ((long)b * prepStride);
                int r = rb;
                for (; r + 4 <= rEnd; r += 4)
                {
                    Tile4x2<T>(w + ((long)r * rowBytes), rowBytes, pairs, p0, p0 + prepStride, y + ((long)b * yStride) + r, yStride);
                }
                for (; r < rEnd; r++)
                {
                    y[((long)b * yStride) + r] = Tile1<T>(w + ((long)r * rowBytes), pairs, p0);
                    y[((long)(b + 1) * yStride) + r] = Tile1<T>(w + ((long)r * rowBytes), pairs, p0 + prepStride);
                }
            }
            if (b < batch)
            {
                byte* p0 = prepared + ((long)b * prepStride);
                int r = rb;
                for (; r + 4 <= rEnd; r += 4)
                {
                    Tile4x1<T>(w + ((long)r * rowBytes), rowBytes, pairs, p0, y + ((long)b * yStride) + r);
                }
                for (; r < rEnd; r++)
                {
                    y[((long)b * yStride) + r] = Tile1<T>(w + ((long)r * rowBytes), pairs, p0);
                }
            }
        }
    }

    private static Vector512<float> UpperHalf
    {
        // Inlined even where the caller is past the JIT's inlining budget (a call per use in a kernel loop otherwise).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1).AsSingle();
    }

    /// <summary>[d0 × 8 | d1 × 8] from the fp16 scales at the start of two blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Scales(byte* b0, byte* b1) => Vector512.ConditionalSelect(
        UpperHalf,
        Vector512.Create(Fp16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(b1))),
        Vector512.Create(Fp16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(b0))));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step<T>(Vector512<float> acc, Vector512<byte> a, Vector512<byte> b, Vector512<float> dx, byte* prepared)
        where T : struct, ILegacyGemmFormat =>
        Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(T.Dot(a, b, prepared)), dx * Vector512.Load((float*)(prepared + 128)), acc);

    // The result as LegacyBlockDot.Dot512 returns it (sum + mins, mins = 0 for these formats).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Total(Vector512<float> acc)
    {
        float mins = 0;
        return Vector512.Sum(acc) + mins;
    }

    private static float Tile1<T>(byte* x, int pairs, byte* p)
        where T : struct, ILegacyGemmFormat
    {
        nint xb = T.WeightBytes;
        Vector512<float> acc = default;
        for (int i = 0; i < pairs; i++)
        {
            byte* xi = x + (i * 2 * xb);
            T.Load(xi, out var a, out var b);
            acc = Step<T>(acc, a, b, Scales(xi, xi + xb), p + (i * PairBytes));
        }
        return Total(acc);
    }

    private static void Tile4x1<T>(byte* x, nint rowBytes, int pairs, byte* p, float* y)
        where T : struct, ILegacyGemmFormat
    {
        nint xb = T.WeightBytes;
        nint ahead = rowBytes * Math.Max(4, (8192 + rowBytes - 1) / rowBytes);
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int i = 0; i < pairs; i++)
        {
            byte* x0 = x + (i * 2 * xb), x1 = x0 + rowBytes, x2 = x1 + rowBytes, x3 = x2 + rowBytes;
            byte* pi = p + (i * PairBytes);
            // Decode streams the weights from memory once: fetch about 8 KiB ahead in each of the four rows, across
            // the 4 KiB page boundaries where the hardware prefetcher stops (1.7x on the TinyLlama shape, 1 thread).
            Sse.Prefetch0(x0 + ahead);
            Sse.Prefetch0(x1 + ahead);
            Sse.Prefetch0(x2 + ahead);
            Sse.Prefetch0(x3 + ahead);
            T.Load(x0, out var a0, out var b0);
            T.Load(x1, out var a1, out var b1);
            T.Load(x2, out var a2, out var b2);
            T.Load(x3, out var a3, out var b3);
            c0 = Step<T>(c0, a0, b0, Scales(x0, x0 + xb), pi);
            c1 = Step<T>(c1, a1, b1, Scales(x1, x1 + xb), pi);
            c2 = Step<T>(c2, a2, b2, Scales(x2, x2 + xb), pi);
            c3 = Step<T>(c3, a3, b3, Scales(x3, x3 + xb), pi);
        }
        y[0] = Total(c0);
        y[1] = Total(c1);
        y[2] = Total(c2);
        y[3] = Total(c3);
    }

    /// <summary>4 weight rows × 4 activation rows: each unpacked weight pair serves four activations, each
    /// prepared activation pair four rows (16 accumulators, within the 32 AVX-512 registers).</summary>
    private static void Tile4x4<T>(byte* x, nint rowBytes, int pairs, byte* p, nint prepStride, float* y, int yStride)
        where T : struct, ILegacyGemmFormat
    {
        nint xb = T.WeightBytes;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        for (int i = 0; i < pairs; i++)
        {
            byte* x0 = x + (i * 2 * xb), x1 = x0 + rowBytes, x2 = x1 + rowBytes, x3 = x2 + rowBytes;
            byte* p0 = p + (i * PairBytes), p1 = p0 + prepStride, p2 = p1 + prepStride, p3 = p2 + prepStride;
            T.Load(x0, out var a0, out var b0);
            Vector512<float> d0 = Scales(x0, x0 + xb);
            c00 = Step<T>(c00, a0, b0, d0, p0);
            c01 = Step<T>(c01, a0, b0, d0, p1);
            c02 = Step<T>(c02, a0, b0, d0, p2);
            c03 = Step<T>(c03, a0, b0, d0, p3);
            T.Load(x1, out var a1, out var b1);
            Vector512<float> d1 = Scales(x1, x1 + xb);
            c10 = Step<T>(c10, a1, b1, d1, p0);
            c11 = Step<T>(c11, a1, b1, d1, p1);
            c12 = Step<T>(c12, a1, b1, d1, p2);
            c13 = Step<T>(c13, a1, b1, d1, p3);
            T.Load(x2, out var a2, out var b2);
            Vector512<float> d2 = Scales(x2, x2 + xb);
            c20 = Step<T>(c20, a2, b2, d2, p0);
            c21 = Step<T>(c21, a2, b2, d2, p1);
            c22 = Step<T>(c22, a2, b2, d2, p2);
            c23 = Step<T>(c23, a2, b2, d2, p3);
            T.Load(x3, out var a3, out var b3);
            Vector512<float> d3 = Scales(x3, x3 + xb);
            c30 = Step<T>(c30, a3, b3, d3, p0);
            c31 = Step<T>(c31, a3, b3, d3, p1);
            c32 = Step<T>(c32, a3, b3, d3, p2);
            c33 = Step<T>(c33, a3, b3, d3, p3);
        }
        Store4(y, c00, c10, c20, c30);
        Store4(y + yStride, c01, c11, c21, c31);
        Store4(y + (2L * yStride), c02, c12, c22, c32);
        Store4(y + (3L * yStride), c03, c13, c23, c33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store4(float* y, Vector512<float> r0, Vector512<float> r1, Vector512<float> r2, Vector512<float> r3)
    {
        y[0] = Total(r0);
        y[1] = Total(r1);
        y[2] = Total(r2);
        y[3] = Total(r3);
    }

    private static void Tile4x2<T>(byte* x, nint rowBytes, int pairs, byte* p, byte* q, float* y, int yStride)
        where T : struct, ILegacyGemmFormat
    {
        nint xb = T.WeightBytes;
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector512<float> e0 = default, e1 = default, e2 = default, e3 = default;
        for (int i = 0; i < pairs; i++)
        {
            byte* x0 = x + (i * 2 * xb), x1 = x0 + rowBytes, x2 = x1 + rowBytes, x3 = x2 + rowBytes;
            byte* pi = p + (i * PairBytes), qi = q + (i * PairBytes);
            T.Load(x0, out var a0, out var b0);
            Vector512<float> d0 = Scales(x0, x0 + xb);
            c0 = Step<T>(c0, a0, b0, d0, pi);
            e0 = Step<T>(e0, a0, b0, d0, qi);
            T.Load(x1, out var a1, out var b1);
            Vector512<float> d1 = Scales(x1, x1 + xb);
            c1 = Step<T>(c1, a1, b1, d1, pi);
            e1 = Step<T>(e1, a1, b1, d1, qi);
            T.Load(x2, out var a2, out var b2);
            Vector512<float> d2 = Scales(x2, x2 + xb);
            c2 = Step<T>(c2, a2, b2, d2, pi);
            e2 = Step<T>(e2, a2, b2, d2, qi);
            T.Load(x3, out var a3, out var b3);
            Vector512<float> d3 = Scales(x3, x3 + xb);
            c3 = Step<T>(c3, a3, b3, d3, pi);
            e3 = Step<T>(e3, a3, b3, d3, qi);
        }
        y[0] = Total(c0);
        y[1] = Total(c1);
        y[2] = Total(c2);
        y[3] = Total(c3);
        y += yStride;
        y[0] = Total(e0);
        y[1] = Total(e1);
        y[2] = Total(e2);
        y[3] = Total(e3);
    }
}

/// <summary>Q4_0: nibbles as unsigned bytes; the prepared pair holds the activation bytes and <c>maddubs(8, s)</c>,
/// so a lane is <c>madd(maddubs(u, s) - maddubs(8, s), 1)</c> as in <see cref="LegacyInt8.DotOffset(Vector512{byte}, Vector512{sbyte}, byte)"/>.</summary>
internal readonly unsafe struct Q4_0Gemm : ILegacyGemmFormat
{
    public static int WeightBytes => BlockQ4_0.Bytes;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(byte* x0, out Vector512<byte> a, out Vector512<byte> b)
    {
        a = LegacyInt8.Nibbles(Vector128.Load(x0 + 2), Vector128.Load(x0 + BlockQ4_0.Bytes + 2));
        b = default;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Dot(Vector512<byte> a, Vector512<byte> b, byte* prepared) =>
        Dot(a, Vector512.Load((sbyte*)prepared), Vector512.Load((short*)(prepared + 64)));

    /// <summary>The dot with the prepared operands in registers: the activation bytes and their <see cref="Offset"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Dot(Vector512<byte> a, Vector512<sbyte> s, Vector512<short> offset) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a, s) - offset, Vector512<short>.One);

    /// <summary>The offset term <c>maddubs(8, s)</c> of activation bytes <paramref name="s"/> (the second prepared operand).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<short> Offset(Vector512<sbyte> s) => Avx512BW.MultiplyAddAdjacent(Vector512.Create((byte)8), s);

    public static void Prepare(byte* y0, byte* prepared)
    {
        Vector512<sbyte> s = LegacyInt8.Load2(y0 + 2, y0 + BlockQ8_0.Bytes + 2);
        s.Store((sbyte*)prepared);
        Offset(s).Store((short*)(prepared + 64));
        LegacyGemm.Scales(y0, y0 + BlockQ8_0.Bytes).Store((float*)(prepared + 128));
    }
}

/// <summary>
/// Q8_0: signed bytes widened to int16. <see cref="LegacyInt8.Dot(Vector256{sbyte}, Vector256{sbyte}, Vector256{sbyte}, Vector256{sbyte})"/>
/// gives lane k of a block <c>Σ bytes {2k, 2k+1, 2k+16, 2k+17}</c>; here operand A holds bytes 0..15 of both blocks
/// and B bytes 16..31, so <c>madd(A) + madd(B)</c> has those very sums in those lanes, without the fold.
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Dot(Vector512<byte> a, Vector512<byte> b, byte* prepared) =>
        Dot(a, b, Vector512.Load((short*)prepared), Vector512.Load((short*)(prepared + 64)));

    /// <summary>The dot with both prepared operands in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Dot(Vector512<byte> a, Vector512<byte> b, Vector512<short> first, Vector512<short> second) =>
        Avx512BW.MultiplyAddAdjacent(a.AsInt16(), first) + Avx512BW.MultiplyAddAdjacent(b.AsInt16(), second);

    public static void Prepare(byte* y0, byte* prepared)
    {
        byte* y1 = y0 + BlockQ8_0.Bytes;
        Widen(y0 + 2, y1 + 2).Store((short*)prepared);
        Widen(y0 + 18, y1 + 18).Store((short*)(prepared + 64));
        LegacyGemm.Scales(y0, y1).Store((float*)(prepared + 128));
    }
}
