using System.Numerics.Tensors;

namespace EdgeAgent.Tensors.Kernels;

/// <summary>RMSNorm (Zhang &amp; Sennrich 2019) as in llama.cpp: <c>y = x / sqrt(mean(x²) + eps) · w</c>.</summary>
public static class RmsNorm
{
    /// <summary>Normalises <paramref name="x"/> into <paramref name="y"/> (may alias) and scales by <paramref name="weight"/>.</summary>
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, float eps)
    {
        int n = weight.Length;
        x = x[..n];
        // Sum of squares as ggml_compute_forward_rms_norm: float products accumulated in double (ggml_float).
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += x[i] * x[i];
        }
        float scale = 1.0f / MathF.Sqrt((float)(sum / n) + eps);
        TensorPrimitives.Multiply(x, scale, y[..n]);
        TensorPrimitives.Multiply(y[..n], weight, y[..n]);
    }
}
