using static EdgeAgent.Tensors.Quants.KQuantBlocks;

namespace EdgeAgent.Tensors.Quants;

/// <summary>The reference quantizer shared by the two "scale and min" formats with 6-bit sub-scales, Q4_K and Q5_K.</summary>
internal static unsafe class KQuantAsymmetric
{
    /// <summary>
    /// The shared body of quantize_row_q4_K_ref and quantize_row_q5_K_ref: per 32-element sub-block a weighted
    /// make_qkx2_quants (weights = rms(sub-block) + |x|), then the 6-bit quantization of scales and mins against
    /// their maxima, then requantization of the levels with the rounded scales; <paramref name="pack"/> stores L.
    /// </summary>
    public static void Quantize(float* x, byte* y, int nb, int nmax, float rmin, float rdelta, int nstep,
        int blockBytes, delegate*<byte*, byte*, void> pack)
    {
        byte* L = stackalloc byte[QK];
        byte* laux = stackalloc byte[32];
        float* weights = stackalloc float[32];
        float* mins = stackalloc float[8];
        float* scales = stackalloc float[8];
        for (int i = 0; i < nb; i++, x += QK, y += blockBytes)
        {
            float maxScale = 0;
            float maxMin = 0;
            for (int j = 0; j < 8; ++j)
            {
                float* xs = x + 32 * j;
                float sumX2 = 0;
                for (int l = 0; l < 32; ++l)
                {
                    sumX2 += xs[l] * xs[l];
                }
                float avX = MathF.Sqrt(sumX2 / 32);
                for (int l = 0; l < 32; ++l)
                {
                    weights[l] = avX + MathF.Abs(xs[l]);
                }
                scales[j] = KQuantSearch.MakeQkx2Quants(32, nmax, xs, weights, L + 32 * j, out mins[j], laux, rmin, rdelta, nstep, false);
                if (scales[j] > maxScale)
                {
                    maxScale = scales[j];
                }
                if (mins[j] > maxMin)
                {
                    maxMin = mins[j];
                }
            }

            // Both layouts start with d, dmin, scales[12].
            byte* sc = y + Q4Scales;
            float invScale = maxScale > 0 ? 63f / maxScale : 0f;
            float invMin = maxMin > 0 ? 63f / maxMin : 0f;
            for (int j = 0; j < 8; ++j)
            {
                // C assigns nearest_int to uint8_t (wraps) before clamping to 63.
                byte ls = Math.Min((byte)63, unchecked((byte)NearestInt(invScale * scales[j])));
                byte lm = Math.Min((byte)63, unchecked((byte)NearestInt(invMin * mins[j])));
                if (j < 4)
                {
                    sc[j] = ls;
                    sc[j + 4] = lm;
                }
                else
                {
                    sc[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                    sc[j - 4] |= (byte)((ls >> 4) << 6);
                    sc[j] |= (byte)((lm >> 4) << 6);
                }
            }
            WriteHalf(y + Q4D, maxScale / 63f);
            WriteHalf(y + Q4DMin, maxMin / 63f);

            float dAll = ReadHalf(y + Q4D);
            float mAll = ReadHalf(y + Q4DMin);
            for (int j = 0; j < 8; ++j)
            {
                GetScaleMinK4(j, sc, out byte s, out byte m);
                float d = dAll * s;
                if (d == 0f)
                {
                    continue;
                }
                float dm = mAll * m;
                for (int ii = 0; ii < 32; ++ii)
                {
                    int l = NearestInt((x[32 * j + ii] + dm) / d);
                    L[32 * j + ii] = (byte)Math.Max(0, Math.Min(nmax, l));
                }
            }
            pack(L, y);
        }
    }
}
