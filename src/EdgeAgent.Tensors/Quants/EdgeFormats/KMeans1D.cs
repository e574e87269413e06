namespace EdgeAgent.Tensors.Quants;

/// <summary>Weighted one-dimensional k-means (Lloyd's algorithm) for codebook formats.</summary>
public static class KMeans1D
{
    /// <summary>
    /// Fits <c>centroids.Length</c> centroids to <paramref name="values"/> minimising Σ w·(x − c)²: initialised at
    /// the weighted quantiles, then <paramref name="iterations"/> assignment/update rounds. Centroids come out
    /// ascending; an empty cluster keeps its previous centre. Empty <paramref name="weights"/> means all ones.
    /// </summary>
    public static void Fit(ReadOnlySpan<float> values, ReadOnlySpan<float> weights, Span<float> centroids, int iterations = 12)
    {
        int n = values.Length, k = centroids.Length;
        var x = values.ToArray();
        var w = new float[n];
        for (int i = 0; i < n; i++)
        {
            w[i] = weights.IsEmpty ? 1f : Math.Max(weights[i], 1e-12f);
        }
        Array.Sort(x, w);
        double total = 0;
        foreach (var v in w)
        {
            total += v;
        }
        // Weighted quantiles (i + 0.5)/k.
        double acc = 0;
        int c = 0;
        for (int i = 0; i < n && c < k; i++)
        {
            acc += w[i];
            while (c < k && acc >= (c + 0.5) / k * total)
            {
                centroids[c++] = x[i];
            }
        }
        for (; c < k; c++)
        {
            centroids[c] = n > 0 ? x[n - 1] : 0;
        }
        Span<double> sum = stackalloc double[k];
        Span<double> mass = stackalloc double[k];
        for (int it = 0; it < iterations; it++)
        {
            sum.Clear();
            mass.Clear();
            int j = 0;
            for (int i = 0; i < n; i++)
            {
                // Values are sorted, so the nearest centroid index never decreases.
                while (j + 1 < k && MathF.Abs(x[i] - centroids[j + 1]) <= MathF.Abs(x[i] - centroids[j]))
                {
                    j++;
                }
                sum[j] += (double)w[i] * x[i];
                mass[j] += w[i];
            }
            bool moved = false;
            for (int q = 0; q < k; q++)
            {
                if (mass[q] > 0)
                {
                    float next = (float)(sum[q] / mass[q]);
                    moved |= next != centroids[q];
                    centroids[q] = next;
                }
            }
            centroids.Sort();
            if (!moved)
            {
                break;
            }
        }
    }
}
