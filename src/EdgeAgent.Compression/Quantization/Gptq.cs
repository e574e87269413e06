using System.Numerics.Tensors;
using EdgeAgent.Compression.Calibration;
using EdgeAgent.Compression.Model;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Compression.Quantization;

/// <summary>GPTQ settings (defaults of the reference implementation).</summary>
public sealed record GptqOptions
{
    /// <summary>Dampening added to the Hessian's diagonal, as a fraction of its mean.</summary>
    public double Damp { get; init; } = 0.01;

    /// <summary>Columns per lazy batch update.</summary>
    public int BlockSize { get; init; } = 128;

    /// <summary>Quantize columns in order of decreasing Hessian diagonal (group parameters then come from the
    /// original weights: "static groups", since a block format keeps a group's columns together).</summary>
    public bool ActOrder { get; init; } = true;
}

/// <summary>
/// GPTQ (Frantar et al. 2022): quantizes a weight matrix one input column at a time, pushing each column's rounding
/// error onto the columns not yet quantized through the inverse Hessian of the layer's input (H = E[x·xᵀ] over the
/// calibration tokens), so the layer's output error ‖(W − Ŵ)X‖² is minimised rather than the weight error.
/// Cholesky of H⁻¹ (upper), lazy block updates, act-order, groups; encodes into the affine/symmetric/log2/NF4 formats.
/// </summary>
public static class Gptq
{
    /// <summary>Quantizes <paramref name="t"/> (rows × cols) into <paramref name="f"/>.</summary>
    /// <exception cref="InvalidOperationException">No Hessian was collected for this input.</exception>
    public static byte[] Encode(FloatTensor t, InputStatistics stats, CodeBlockFormat f, GptqOptions o)
    {
        if (stats.Hessian is null || stats.Count == 0)
        {
            throw new InvalidOperationException($"GPTQ needs the input Hessian of '{t.Name}'");
        }
        if (f.Family == EdgeQuantFamily.KMeans)
        {
            throw new ArgumentException("GPTQ quantizes into affine, symmetric, log2 or NF4 formats");
        }
        int rows = t.Rows, n = t.Cols, g = f.Group, groups = n / g;
        var h = new double[(long)n * n];
        for (long i = 0; i < h.LongLength; i++)
        {
            h[i] = stats.Hessian[i] / (double)stats.Count;
        }
        // Columns as contiguous vectors over rows: every update below is a whole-column axpy.
        var wt = new float[n][];
        for (int j = 0; j < n; j++)
        {
            wt[j] = new float[rows];
            for (int r = 0; r < rows; r++)
            {
                wt[j][r] = t.Data[(r * n) + j];
            }
        }
        var diag = new double[n];
        double mean = 0;
        for (int j = 0; j < n; j++)
        {
            if (h[((long)j * n) + j] == 0)
            {
                // A dead input: its weights never matter; zero them so they cost nothing.
                h[((long)j * n) + j] = 1;
                Array.Clear(wt[j]);
            }
            diag[j] = h[((long)j * n) + j];
            mean += diag[j] / n;
        }
        for (int j = 0; j < n; j++)
        {
            h[((long)j * n) + j] += o.Damp * mean;
        }
        int[] perm = Enumerable.Range(0, n).ToArray();
        if (o.ActOrder)
        {
            perm = perm.OrderByDescending(j => diag[j]).ThenBy(j => j).ToArray();
        }
        var hp = new double[(long)n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                hp[((long)i * n) + j] = h[((long)perm[i] * n) + perm[j]];
            }
        }
        var u = UpperCholeskyOfInverse(hp, n, o.Damp * mean);
        var wp = perm.Select(j => wt[j]).ToArray();

        // Group parameters: static (from the original weights) with act-order, else set when a group starts.
        var d = new float[rows * groups];
        var m = new float[rows * groups];
        if (o.ActOrder)
        {
            for (int gi = 0; gi < groups; gi++)
            {
                SetParams(f, wt, gi * g, g, d, m, gi, groups);
            }
        }
        var codes = new byte[(long)rows * n];
        var table = f.FixedTable;
        int bsz = Math.Max(1, o.BlockSize);
        for (int i1 = 0; i1 < n; i1 += bsz)
        {
            int i2 = Math.Min(n, i1 + bsz);
            var err = new float[i2 - i1][];
            for (int i = i1; i < i2; i++)
            {
                int col = perm[i], gi = col / g;
                if (!o.ActOrder && col % g == 0)
                {
                    SetParams(f, wp, i, g, d, m, gi, groups);
                }
                var w = wp[i];
                var e = err[i - i1] = new float[rows];
                float uii = (float)u[((long)i * n) + i];
                for (int r = 0; r < rows; r++)
                {
                    float dd = d[(r * groups) + gi], mm = m[(r * groups) + gi];
                    int code = f.HasTable ? CodeBlockFormat.NearestIndex(dd != 0 ? w[r] / dd : 0, table) : f.NearestAffine(w[r], dd, mm);
                    codes[((long)r * n) + col] = (byte)code;
                    float q = (dd * f.Value(code, table)) + mm;
                    e[r] = (w[r] - q) / uii;
                }
                for (int j = i + 1; j < i2; j++)
                {
                    TensorPrimitives.MultiplyAdd(e, (float)-u[((long)i * n) + j], wp[j], wp[j]);
                }
            }
            Parallel.For(i2, n, j =>
            {
                for (int k = i1; k < i2; k++)
                {
                    TensorPrimitives.MultiplyAdd(err[k - i1], (float)-u[((long)k * n) + j], wp[j], wp[j]);
                }
            });
        }

        var bytes = new byte[(long)rows * groups * f.BlockBytes];
        for (int r = 0; r < rows; r++)
        {
            for (int gi = 0; gi < groups; gi++)
            {
                f.EncodeBlock(bytes.AsSpan((int)((((long)r * groups) + gi) * f.BlockBytes), f.BlockBytes),
                    d[(r * groups) + gi], m[(r * groups) + gi], codes.AsSpan((int)(((long)r * n) + (gi * g)), g));
            }
        }
        return bytes;
    }

    private static void SetParams(CodeBlockFormat f, float[][] cols, int start, int g, float[] d, float[] m, int gi, int groups)
    {
        int rows = cols[0].Length;
        var x = new float[g];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < g; j++)
            {
                x[j] = cols[start + j][r];
            }
            var (dd, mm) = GroupQuantizer.Header(x, f, 1f);
            d[(r * groups) + gi] = dd;
            m[(r * groups) + gi] = mm;
        }
    }

    /// <summary>Upper-triangular U with H⁻¹ = Uᵀ·U (torch: cholesky → cholesky_inverse → cholesky(upper)).</summary>
    internal static double[] UpperCholeskyOfInverse(double[] h, int n, double extraDamp)
    {
        for (int attempt = 0; ; attempt++)
        {
            var l = (double[])h.Clone();
            if (attempt > 0)
            {
                for (int j = 0; j < n; j++)
                {
                    l[((long)j * n) + j] += extraDamp * Math.Pow(10, attempt);
                }
            }
            if (!CholeskyLower(l, n))
            {
                if (attempt > 6)
                {
                    throw new InvalidOperationException("GPTQ: the Hessian is not positive definite even with dampening");
                }
                continue;
            }
            var li = InvertLower(l, n);
            // H⁻¹ = L⁻ᵀ·L⁻¹
            var inv = new double[(long)n * n];
            Parallel.For(0, n, i =>
            {
                for (int j = 0; j <= i; j++)
                {
                    double s = 0;
                    for (int k = i; k < n; k++)
                    {
                        s += li[((long)k * n) + i] * li[((long)k * n) + j];
                    }
                    inv[((long)i * n) + j] = s;
                    inv[((long)j * n) + i] = s;
                }
            });
            if (!CholeskyLower(inv, n))
            {
                continue;
            }
            // U = Lᵀ of chol(H⁻¹)
            var up = new double[(long)n * n];
            for (int i = 0; i < n; i++)
            {
                for (int j = i; j < n; j++)
                {
                    up[((long)i * n) + j] = inv[((long)j * n) + i];
                }
            }
            return up;
        }
    }

    /// <summary>In-place lower Cholesky factor (upper part zeroed); false when not positive definite.</summary>
    internal static bool CholeskyLower(double[] a, int n)
    {
        for (int j = 0; j < n; j++)
        {
            double s = a[((long)j * n) + j];
            for (int k = 0; k < j; k++)
            {
                s -= a[((long)j * n) + k] * a[((long)j * n) + k];
            }
            if (!(s > 0))
            {
                return false;
            }
            double ljj = Math.Sqrt(s);
            a[((long)j * n) + j] = ljj;
            Parallel.For(j + 1, n, i =>
            {
                double t = a[((long)i * n) + j];
                for (int k = 0; k < j; k++)
                {
                    t -= a[((long)i * n) + k] * a[((long)j * n) + k];
                }
                a[((long)i * n) + j] = t / ljj;
            });
            for (int i = 0; i < j; i++)
            {
                a[((long)i * n) + j] = 0;
            }
        }
        return true;
    }

    private static double[] InvertLower(double[] l, int n)
    {
        var inv = new double[(long)n * n];
        Parallel.For(0, n, c =>
        {
            // Column c of L⁻¹ by forward substitution.
            for (int i = c; i < n; i++)
            {
                double s = i == c ? 1 : 0;
                for (int k = c; k < i; k++)
                {
                    s -= l[((long)i * n) + k] * inv[((long)k * n) + c];
                }
                inv[((long)i * n) + c] = s / l[((long)i * n) + i];
            }
        });
        return inv;
    }
}
