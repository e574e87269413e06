namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// K-quant matmul over a batch of Q8_K activation rows: each weight row meets four activation rows per pass of
/// <see cref="KQuantDot.Dot512x4{T}"/>, so its scales and unpacked levels are reused four times. Outputs are
/// bit-identical to the row-by-row <c>VecDot</c>. Batches of fewer than four rows (decode) call the AVX-512 row dot
/// directly, without the per-row delegate and span checks of <c>VecDot</c> (which showed on short rows). AVX-512 only.
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
        where T : struct, IKQuant<T>
    {
        float* four = stackalloc float[8];
        if (batch < 4)
        {
            for (int a = 0; a < batch; a++)
            {
                byte* yb = q + ((long)a * qStride);
                float* yRow = y + ((long)a * yStride);
                for (int r = r0; r < r1; r++)
                {
                    yRow[r] = KQuantDot.Dot512<T>(w + ((long)r * rowBytes), yb, nb);
                }
            }
            return;
        }
        // Activation rows outside, weight rows inside: a group of eight activation rows stays in L1 while a block of
        // weight rows streams past (the other order re-read the whole batch from L2 for every weight row); rows in
        // blocks of 64, so the block's weights stay in L2 while every group passes.
        for (int rb = r0; rb < r1; rb += 64)
        {
            RunBlock<T>(w, rowBytes, nb, q, qStride, batch, rb, Math.Min(r1, rb + 64), y, yStride, four);
        }
    }

    private static void RunBlock<T>(byte* w, int rowBytes, int nb, byte* q, int qStride, int batch, int r0, int r1, float* y, int yStride, float* four)
        where T : struct, IKQuant<T>
    {
        int b = 0;
        for (; b + 8 <= batch; b += 8)
        {
            byte* qb = q + ((long)b * qStride);
            for (int r = r0; r < r1; r++)
            {
                KQuantDot.Dot512x8<T>(w + ((long)r * rowBytes), qb, qStride, nb, four);
                for (int j = 0; j < 8; j++)
                {
                    y[((long)(b + j) * yStride) + r] = four[j];
                }
            }
        }
        for (; b + 4 <= batch; b += 4)
        {
            byte* qb = q + ((long)b * qStride);
            for (int r = r0; r < r1; r++)
            {
                KQuantDot.Dot512x4<T>(w + ((long)r * rowBytes), qb, qStride, nb, four);
                for (int j = 0; j < 4; j++)
                {
                    y[((long)(b + j) * yStride) + r] = four[j];
                }
            }
        }
        for (; b < batch; b++)
        {
            byte* qb = q + ((long)b * qStride);
            for (int r = r0; r < r1; r++)
            {
                y[((long)b * yStride) + r] = KQuantDot.Dot<T>(w + ((long)r * rowBytes), qb, nb);
            }
        }
    }
}
