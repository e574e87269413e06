using EdgeAgent.Compression.Model;

namespace EdgeAgent.Compression.Calibration;

/// <summary>
/// Per-weight importance of a model's matrices, the common currency of the pruners (and of importance-weighted
/// quantizers): larger means more costly to remove. Sources: the weights alone (magnitude), calibration activations
/// (Wanda) or gradients from the training engine (Taylor, Fisher).
/// </summary>
public interface IImportanceSource
{
    /// <summary>Short name for reports (<c>magnitude</c>, <c>wanda</c>, <c>taylor</c>).</summary>
    string Name { get; }

    /// <summary>True when scores should be compared within each output row (Wanda) rather than over the whole tensor.</summary>
    bool PerRow { get; }

    /// <summary>Importance of every element of <paramref name="tensor"/> (rows × cols, row-major).</summary>
    float[] Score(FloatTensor tensor);
}

/// <summary>|W|: magnitude pruning's score.</summary>
public sealed class MagnitudeImportance : IImportanceSource
{
    public string Name => "magnitude";
    public bool PerRow => false;

    public float[] Score(FloatTensor tensor) => tensor.Data.Select(MathF.Abs).ToArray();
}

/// <summary>Wanda (Sun et al. 2023): |W_ij|·‖X_j‖₂ over the calibration tokens, compared within each output row.</summary>
public sealed class ActivationImportance(CalibrationData calibration) : IImportanceSource
{
    public string Name => "wanda";
    public bool PerRow => true;

    public float[] Score(FloatTensor tensor)
    {
        var stats = calibration.For(tensor.Name) ?? throw new InvalidOperationException($"no calibration activations for '{tensor.Name}'");
        var norms = stats.ColumnNorms();
        var s = new float[tensor.Data.Length];
        for (int r = 0; r < tensor.Rows; r++)
        {
            for (int j = 0; j < tensor.Cols; j++)
            {
                int i = (r * tensor.Cols) + j;
                s[i] = MathF.Abs(tensor.Data[i]) * norms[j];
            }
        }
        return s;
    }
}

/// <summary>
/// Gradients of the loss with respect to every weight, accumulated over calibration data. Implemented by the
/// training engine (its backward pass); compression only consumes them.
/// </summary>
public interface IGradientSource
{
    /// <summary>Σ over calibration batches of (∂L/∂W) per tensor name (Taylor), and of (∂L/∂W)² (Fisher).</summary>
    (IReadOnlyDictionary<string, float[]> Gradients, IReadOnlyDictionary<string, float[]> SquaredGradients) Accumulate(
        ModelTensors model, IReadOnlyList<int> tokens, int bos, int context);
}

/// <summary>Taylor importance |W·∂L/∂W| (Molchanov et al. 2019) from accumulated gradients.</summary>
public sealed class GradientImportance(IReadOnlyDictionary<string, float[]> gradients) : IImportanceSource
{
    /// <summary>
    /// Taylor importance accumulated per calibration batch b as Molchanov et al. (2019) do: score² = Σ_b (W·g_b)², i.e.
    /// |W|·√(Σ_b g_b²). (|W·Σ_b g_b| would be nearly zero everywhere on a trained model, whose mean gradient vanishes.)
    /// </summary>
    public static GradientImportance FromSquaredGradients(IReadOnlyDictionary<string, float[]> squaredGradients) =>
        new(squaredGradients.ToDictionary(kv => kv.Key, kv => kv.Value.Select(MathF.Sqrt).ToArray()));

    /// <summary>Runs <paramref name="source"/> (default: the training engine) over calibration tokens and returns the Taylor scores.</summary>
    public static GradientImportance Collect(ModelTensors model, IReadOnlyList<int> tokens, int bos, int context, IGradientSource? source = null) =>
        FromSquaredGradients((source ?? DefaultSource).Accumulate(model, tokens, bos, context).SquaredGradients);

    public string Name => "taylor";
    public bool PerRow => false;

    /// <summary>The gradient source of this build: the training engine's backward pass.</summary>
    public static IGradientSource DefaultSource { get; } = new TrainingGradientSource();

    /// <summary>The error for a gradient-based method called without gradients.</summary>
    public static NotSupportedException Unavailable(string method) =>
        new($"--method {method} needs gradients (GradientImportance from an IGradientSource)");

    public float[] Score(FloatTensor tensor)
    {
        var g = gradients.GetValueOrDefault(tensor.Name) ?? throw new InvalidOperationException($"no gradient for '{tensor.Name}'");
        var s = new float[tensor.Data.Length];
        for (int i = 0; i < s.Length; i++)
        {
            s[i] = MathF.Abs(tensor.Data[i] * g[i]);
        }
        return s;
    }
}
