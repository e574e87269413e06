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
        // Sum of squares accumulated in double as ggml_compute_forward_rms_norm does (ggml_float).
        double sum = 0;
        int i = 0;
        var acc = System.Runtime.Intrinsics.Vector256<double>.Zero;
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
        {
            for (; i + 4 <= n; i += 4)
            {
                var v = System.Runtime.Intrinsics.Vector128.Create(x[i], x[i + 1], x[i + 2], x[i + 3]);
                var d = System.Runtime.Intrinsics.Vector256.WidenLower(System.Runtime.Intrinsics.Vector256.Create(v, v)); // low 4 lanes as doubles
                acc += d * d;
            }
            sum = System.Runtime.Intrinsics.Vector256.Sum(acc);
        }
        for (; i < n; i++)
        {
            sum += (double)x[i] * x[i];
        }
        float scale = 1.0f / MathF.Sqrt((float)(sum / n) + eps);
        TensorPrimitives.Multiply(x, scale, y[..n]);
        TensorPrimitives.Multiply(y[..n], weight, y[..n]);
    }
}
