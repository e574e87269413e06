namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// K-quant matmul over a batch of Q8_K activation rows: each weight row meets four activation rows per pass of
/// <see cref="KQuantDot.Dot512x4{T}"/>, so its scales and unpacked levels are reused four times. Outputs are
/// bit-identical to the row-by-row <c>VecDot</c>. Batches of fewer than four rows (decode) call the AVX-512 row dot
/// directly, without the per-row delegate and span checks of <c>VecDot</c> (which showed on short rows). AVX-512 only.
/// <see cref="RunBatch{TDots}"/> is the loop order, shared with the interleaved Q4_K layout.
/// </summary>
internal static unsafe class KQuantGemm
{
    /// <summary>True when <paramref name="type"/> weights take this path for a batch of <paramref name="batch"/> rows here.</summary>
    public static bool Supports(GgmlType type, int batch) =>
        batch >= 1 && KQuantDot.Best == KIsa.Avx512 && type is GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;

    /// <summary><c>y[b·yStride + r] = W[r]·q[b]</c> for rows [r0, r1) and every activation row b &lt; batch.</summary>
    public static void Run(GgmlType type, byte* w, int rowBytes, int nb, byte* q, int qStride, int batch, int r0, int r1, float* y, int yStride)
    {
        switch (type)
        {
            case GgmlType.Q2_K: Run<Q2_KKernel>(w, rowBytes, nb, q, qStride, batch, r0, r1, y, yStride); break;
            case GgmlType.Q3_K: Run<Q3_KKernel>(w, rowBytes, nb, q, qStride, batch, r0, r1, y, yStride); break;
            case GgmlType.Q4_K: Run<Q4_KKernel>(w, rowBytes, nb, q, qStride, batch, r0, r1, y, yStride); break;
            case GgmlType.Q5_K: Run<Q5_KKernel>(w, rowBytes, nb, q, qStride, batch, r0, r1, y, yStride); break;
            default: Run<Q6_KKernel>(w, rowBytes, nb, q, qStride, batch, r0, r1, y, yStride); break;
        }
    }

    private static void Run<T>(byte* w, int rowBytes, int nb, byte* q, int qStride, int batch, int r0, int r1, float* y, int yStride)
        where T : struct, IKQuant<T> =>
        RunBatch<FileLayout<T>>(w, rowBytes, nb, q, qStride, batch, r0, r1, y, yStride);

    private const int RowBlock = 64;

    /// <summary>
    /// <c>y[b·yStride + r] = W[r]·q[b]</c> for rows [r0, r1) and every activation row b &lt; batch, with the tiles of
    /// <typeparamref name="TDots"/>. Rows in blocks of 64 (a block's weights stay in L2 while every group of activation
    /// rows passes); within a block, activation rows outside and weight rows inside (a group of eight activation rows
    /// stays in L1 while the block's rows stream past; the other order re-read the whole batch from L2 for every
    /// weight row). Groups of eight, then four, then single rows; a decode step (one row) is a row dot per row.
    /// </summary>
    internal static void RunBatch<TDots>(byte* w, int rowBytes, int nb, byte* q, int qStride, int batch, int r0, int r1, float* y, int yStride)
        where TDots : struct, IRowDots
    {
        float* eight = stackalloc float[8];
        for (int rb = r0; rb < r1; rb += RowBlock)
        {
            int re = Math.Min(r1, rb + RowBlock);
            int b = 0;
            for (; b + 8 <= batch; b += 8)
            {
                byte* qb = q + ((long)b * qStride);
                for (int r = rb; r < re; r++)
                {
                    TDots.Dot8(w + ((long)r * rowBytes), qb, qStride, nb, eight);
                    for (int j = 0; j < 8; j++)
                    {
                        y[((long)(b + j) * yStride) + r] = eight[j];
                    }
                }
            }
            for (; b + 4 <= batch; b += 4)
            {
                byte* qb = q + ((long)b * qStride);
                for (int r = rb; r < re; r++)
                {
                    TDots.Dot4(w + ((long)r * rowBytes), qb, qStride, nb, eight);
                    for (int j = 0; j < 4; j++)
                    {
                        y[((long)(b + j) * yStride) + r] = eight[j];
                    }
                }
            }
            for (; b < batch; b++)
            {
                byte* qb = q + ((long)b * qStride);
                float* yb = y + ((long)b * yStride);
                for (int r = rb; r < re; r++)
                {
                    yb[r] = TDots.Dot(w + ((long)r * rowBytes), qb, nb);
                }
            }
        }
    }

    /// <summary>The file layout's AVX-512 K-quant dots.</summary>
    private readonly struct FileLayout<T> : IRowDots where T : struct, IKQuant<T>
    {
        public static void Dot8(byte* x, byte* y, nint yStride, int nb, float* result) => KQuantDot.Dot512x8<T>(x, y, yStride, nb, result);

        public static void Dot4(byte* x, byte* y, nint yStride, int nb, float* result) => KQuantDot.Dot512x4<T>(x, y, yStride, nb, result);

        public static float Dot(byte* x, byte* y, int nb) => KQuantDot.Dot512<T>(x, y, nb);
    }
}

/// <summary>A weight layout's dots of one weight row with eight, four or one activation rows (for <see cref="KQuantGemm.RunBatch{TDots}"/>).</summary>
internal unsafe interface IRowDots
{
    static abstract void Dot8(byte* x, byte* y, nint yStride, int nb, float* result);

    static abstract void Dot4(byte* x, byte* y, nint yStride, int nb, float* result);

    static abstract float Dot(byte* x, byte* y, int nb);
}
