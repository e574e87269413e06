namespace EdgeAgent.Training.Hooks;

/// <summary>
/// Per-weight gradient sums over calibration batches, for the compression layer: Σg gives first-order Taylor
/// importance (|θ·Σg|), Σg² the empirical Fisher diagonal (Optimal Brain Damage / Fisher-weighted quantization).
/// Kept in float64 so many small contributions do not vanish.
/// </summary>
public sealed class GradientStatistics(int parameterCount)
{
    public double[] Sum { get; } = new double[parameterCount];
    public double[] SumOfSquares { get; } = new double[parameterCount];

    /// <summary>Batches accumulated.</summary>
    public int Count { get; private set; }

    public void Accumulate(ReadOnlySpan<float> gradients)
    {
        if (gradients.Length != Sum.Length)
        {
            throw new ArgumentException("gradient length does not match");
        }
        var s = Sum;
        var q = SumOfSquares;
        for (int i = 0; i < gradients.Length; i++)
        {
            double g = gradients[i];
            s[i] += g;
            q[i] += g * g;
        }
        Count++;
    }
}
