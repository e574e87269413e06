using static EdgeAgent.Tensors.Quants.KQuantBlocks;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// The scale searches behind ggml's reference K-quantizers (ggml-quants.c: make_qx_quants, make_q3_quants,
/// make_qkx2_quants). They must reproduce llama.cpp's output bit for bit, so every float expression keeps the C
/// operation order (left to right, int operands converted to float at the same point, no fused multiply-add:
/// ggml-base is built for baseline x86-64, where the compiler has no FMA to contract into).
/// </summary>
internal static unsafe class KQuantSearch
{
    /// <summary>
    /// make_qx_quants with rmse_type = 1: symmetric levels L[i] in [0, 2·nmax) (stored as l + nmax) for the scale
    /// that best fits x under weights w (x² when <paramref name="qw"/> is null), trying 18 perturbed inverse scales
    /// around -nmax/max. Returns the scale; an all-zero group returns 0 with L = 0.
    /// </summary>
    public static float MakeQxQuants(int n, int nmax, float* x, sbyte* L, float* qw)
    {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; ++i)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax)
            {
                amax = ax;
                max = x[i];
            }
        }
        if (amax < GroupMaxEps)
        {
            for (int i = 0; i < n; ++i)
            {
                L[i] = 0;
            }
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; ++i)
        {
            int l = Math.Max(-nmax, Math.Min(nmax - 1, NearestInt(iscale * x[i])));
            L[i] = (sbyte)(l + nmax);
            float w = qw != null ? qw[i] : x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0f ? sumlx / suml2 : 0f;
        float best = scale * sumlx;
        for (int step = -9; step <= 9; ++step)
        {
            if (step == 0)
            {
                continue;
            }
            iscale = -(nmax + 0.1f * step) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < n; ++i)
            {
                int l = Math.Max(-nmax, Math.Min(nmax - 1, NearestInt(iscale * x[i])));
                float w = qw != null ? qw[i] : x[i] * x[i];
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2)
            {
                for (int i = 0; i < n; ++i)
                {
                    int l = NearestInt(iscale * x[i]);
                    L[i] = (sbyte)(nmax + Math.Max(-nmax, Math.Min(nmax - 1, l)));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /// <summary>
    /// make_q3_quants with do_rmse: starts from nearest levels of -nmax/max, then up to 5 rounds of coordinate
    /// descent on each level under weights x². L holds l + nmax in [0, 2·nmax). Returns the least-squares scale.
    /// </summary>
    public static float MakeQ3Quants(int n, int nmax, float* x, sbyte* L)
    {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; ++i)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax)
            {
                amax = ax;
                max = x[i];
            }
        }
        if (amax < GroupMaxEps)
        {
            for (int i = 0; i < n; ++i)
            {
                L[i] = 0;
            }
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; ++i)
        {
            int l = Math.Max(-nmax, Math.Min(nmax - 1, NearestInt(iscale * x[i])));
            L[i] = (sbyte)l;
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        for (int itry = 0; itry < 5; ++itry)
        {
            int changed = 0;
            for (int i = 0; i < n; ++i)
            {
                float w = x[i] * x[i];
                float slx = sumlx - w * x[i] * L[i];
                if (slx > 0)
                {
                    float sl2 = suml2 - w * L[i] * L[i];
                    int newL = Math.Max(-nmax, Math.Min(nmax - 1, NearestInt(x[i] * sl2 / slx)));
                    if (newL != L[i])
                    {
                        slx += w * x[i] * newL;
                        sl2 += w * newL * newL;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2)
                        {
                            L[i] = (sbyte)newL;
                            sumlx = slx;
                            suml2 = sl2;
                            ++changed;
                        }
                    }
                }
            }
            if (changed == 0)
            {
                break;
            }
        }
        for (int i = 0; i < n; ++i)
        {
            L[i] = (sbyte)(L[i] + nmax);
        }
        return suml2 > 0f ? sumlx / suml2 : 0f;
    }

    /// <summary>
    /// make_qkx2_quants: asymmetric levels L[i] in [0, nmax] with x ≈ scale·L − theMin (min clamped to ≤ 0 before
    /// negation). Starts from the min/max grid, then tries nstep+1 inverse scales (rmin + rdelta·is + nmax)/(max − min),
    /// each with a weighted least-squares (scale, min) fit, keeping the lowest weighted error (|diff| when
    /// <paramref name="useMad"/>, else diff²). <paramref name="laux"/> is scratch of n bytes.
    /// </summary>
    public static float MakeQkx2Quants(int n, int nmax, float* x, float* weights, byte* L, out float theMin, byte* laux,
        float rmin, float rdelta, int nstep, bool useMad)
    {
        float min = x[0];
        float max = x[0];
        float sumW = weights[0];
        float sumX = sumW * x[0];
        for (int i = 1; i < n; ++i)
        {
            if (x[i] < min)
            {
                min = x[i];
            }
            if (x[i] > max)
            {
                max = x[i];
            }
            float w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (min > 0)
        {
            min = 0;
        }
        if (max == min)
        {
            for (int i = 0; i < n; ++i)
            {
                L[i] = 0;
            }
            theMin = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; ++i)
        {
            int l = NearestInt(iscale * (x[i] - min));
            L[i] = (byte)Math.Max(0, Math.Min(nmax, l));
            float diff = scale * L[i] + min - x[i];
            diff = useMad ? MathF.Abs(diff) : diff * diff;
            bestError += weights[i] * diff;
        }
        if (nstep < 1)
        {
            theMin = -min;
            return scale;
        }
        for (int step = 0; step <= nstep; ++step)
        {
            iscale = (rmin + rdelta * step + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; ++i)
            {
                int l = Math.Max(0, Math.Min(nmax, NearestInt(iscale * (x[i] - min))));
                laux[i] = (byte)l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0)
            {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float curError = 0;
                for (int i = 0; i < n; ++i)
                {
                    float diff = thisScale * laux[i] + thisMin - x[i];
                    diff = useMad ? MathF.Abs(diff) : diff * diff;
                    curError += weights[i] * diff;
                }
                if (curError < bestError)
                {
                    for (int i = 0; i < n; ++i)
                    {
                        L[i] = laux[i];
                    }
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin = -min;
        return scale;
    }
}
