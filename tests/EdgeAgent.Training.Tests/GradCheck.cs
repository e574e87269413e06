namespace EdgeAgent.Training.Tests;

/// <summary>
/// Central finite differences in float64: (L(θ+h) − L(θ−h)) / 2h with h = 1e-5. With double arithmetic the
/// truncation error is O(h²) ≈ 1e-10 and round-off ≈ 1e-16/h ≈ 1e-11, so a correct analytic gradient agrees to
/// |g − g_fd| ≤ 1e-7 + 1e-5·|g_fd| (<see cref="AbsTolerance"/>, <see cref="RelTolerance"/>); a wrong term is
/// off by O(|g|).
/// </summary>
internal static class GradCheck
{
    public const double Step = 1e-5;
    public const double AbsTolerance = 1e-7;
    public const double RelTolerance = 1e-5;

    /// <summary>Checks <paramref name="analytic"/> against finite differences of <paramref name="loss"/> over every
    /// element of <paramref name="x"/> (or every <paramref name="stride"/>-th).</summary>
    public static void Check(string what, double[] x, double[] analytic, Func<double> loss, int stride = 1)
    {
        Assert.Equal(x.Length, analytic.Length);
        int checkedCount = 0;
        double maxErr = 0;
        for (int i = 0; i < x.Length; i += stride)
        {
            double keep = x[i];
            x[i] = keep + Step;
            double up = loss();
            x[i] = keep - Step;
            double down = loss();
            x[i] = keep;
            double fd = (up - down) / (2 * Step);
            double err = Math.Abs(fd - analytic[i]);
            maxErr = Math.Max(maxErr, err);
            Assert.True(err <= AbsTolerance + RelTolerance * Math.Abs(fd),
                $"{what}[{i}]: analytic {analytic[i]:R} vs finite difference {fd:R} (error {err:E2})");
            checkedCount++;
        }
        Assert.True(checkedCount > 0);
        // The check is only meaningful if the gradient is not identically zero.
        Assert.Contains(analytic, g => Math.Abs(g) > 1e-6);
    }

    public static double[] Random(int n, int seed, double scale = 1)
    {
        var r = new Random(seed);
        var a = new double[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = scale * (2 * r.NextDouble() - 1);
        }
        return a;
    }

    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            s += a[i] * b[i];
        }
        return s;
    }
}
