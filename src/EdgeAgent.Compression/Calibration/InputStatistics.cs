using System.Numerics.Tensors;

namespace EdgeAgent.Compression.Calibration;

/// <summary>
/// Statistics of the activations entering one group of linear layers (all layers that read the same input), over
/// the calibration tokens: per-channel sums of x² and |x|, optionally the second-moment matrix Σ x·xᵀ (GPTQ's
/// Hessian up to a factor 2) and a reservoir of sample rows (AWQ's output-error search).
/// </summary>
public sealed class InputStatistics
{
    private readonly Random _rng = new(1234);

    public InputStatistics(int cols, bool hessian, int maxSamples)
    {
        Cols = cols;
        SumSquares = new double[cols];
        SumAbs = new double[cols];
        Hessian = hessian ? new float[(long)cols * cols] : null;
        MaxSamples = maxSamples;
    }

    public int Cols { get; }
    public long Count { get; private set; }
    public double[] SumSquares { get; }
    public double[] SumAbs { get; }

    /// <summary>Σ x·xᵀ over the tokens (cols × cols), or null when not collected.</summary>
    public float[]? Hessian { get; }

    public int MaxSamples { get; }
    public List<float[]> Samples { get; } = [];

    /// <summary>Mean of x_j² (llama.cpp's imatrix entry for column j).</summary>
    public float[] MeanSquares() => SumSquares.Select(v => (float)(v / Math.Max(1, Count))).ToArray();

    /// <summary>Mean of |x_j| (AWQ's activation magnitude).</summary>
    public float[] MeanAbs() => SumAbs.Select(v => (float)(v / Math.Max(1, Count))).ToArray();

    /// <summary>‖X_j‖₂ over the calibration tokens (Wanda's activation norm).</summary>
    public float[] ColumnNorms() => SumSquares.Select(v => (float)Math.Sqrt(v)).ToArray();

    /// <summary>Adds <paramref name="rows"/> activation rows of <see cref="Cols"/> values.</summary>
    public void Add(ReadOnlySpan<float> data, int rows)
    {
        for (int t = 0; t < rows; t++)
        {
            var x = data.Slice(t * Cols, Cols);
            for (int j = 0; j < Cols; j++)
            {
                SumSquares[j] += x[j] * (double)x[j];
                SumAbs[j] += Math.Abs(x[j]);
            }
            if (Hessian is not null)
            {
                for (int i = 0; i < Cols; i++)
                {
                    if (x[i] != 0)
                    {
                        var row = Hessian.AsSpan(i * Cols, Cols);
                        TensorPrimitives.MultiplyAdd(x, x[i], row, row);
                    }
                }
            }
            Count++;
            // Reservoir sampling keeps a uniform sample of all rows seen.
            if (Samples.Count < MaxSamples)
            {
                Samples.Add(x.ToArray());
            }
            else if (MaxSamples > 0)
            {
                long k = _rng.NextInt64(Count);
                if (k < MaxSamples)
                {
                    Samples[(int)k] = x.ToArray();
                }
            }
        }
    }
}
