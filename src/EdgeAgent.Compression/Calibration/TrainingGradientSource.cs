using EdgeAgent.Compression.Model;
using EdgeAgent.Tensors.Threading;
using EdgeAgent.Training.Data;
using EdgeAgent.Training.Hooks;
using EdgeAgent.Training.Model;

namespace EdgeAgent.Compression.Calibration;

/// <summary>
/// <see cref="IGradientSource"/> from the training engine: the model's float tensors are copied into a
/// <see cref="TrainableTransformer{T}"/>, the calibration tokens are cut into the <c>perplexity</c> windows (BOS + context−1
/// tokens), and for each batch of windows the mean cross-entropy is back-propagated; the training hooks
/// (<see cref="GradientStatistics"/>) sum ∂L/∂W and (∂L/∂W)² over the batches. Plain llama models only (what the trainer
/// runs).
/// </summary>
public sealed class TrainingGradientSource(int batch = 4, int threads = 1) : IGradientSource
{
    public (IReadOnlyDictionary<string, float[]> Gradients, IReadOnlyDictionary<string, float[]> SquaredGradients) Accumulate(
        ModelTensors model, IReadOnlyList<int> tokens, int bos, int context)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokens);
        bool tied = model.Find("output.weight") is null;
        var shape = ModelShape.FromConfig(model.Config, tied);
        shape = shape with { ContextLength = Math.Max(shape.ContextLength, context) };
        using var pool = new ComputePool(threads);
        var net = new TrainableTransformer<float>(shape, batch, context, pool);
        foreach (var t in net.Layout.Tensors)
        {
            var src = model[t.Name];
            if (src.Data.LongLength != t.Length || src.Cols != t.Cols)
            {
                throw new ArgumentException($"tensor '{t.Name}' has {src.Data.LongLength} elements in rows of {src.Cols}, the trainer expects {t.Rows}×{t.Cols}");
            }
            src.Data.CopyTo(net.Parameters, t.Offset);
        }
        var data = new TokenDataset(tokens as int[] ?? [.. tokens], bos);
        var stats = new GradientStatistics(net.Layout.Count);
        EdgeAgent.Training.Hooks.Calibration.Run(net, data, activations: null, stats);
        var sum = new Dictionary<string, float[]>();
        var squares = new Dictionary<string, float[]>();
        foreach (var t in net.Layout.Tensors)
        {
            var g = new float[t.Length];
            var q = new float[t.Length];
            for (long i = 0; i < t.Length; i++)
            {
                g[i] = (float)stats.Sum[t.Offset + i];
                q[i] = (float)stats.SumOfSquares[t.Offset + i];
            }
            sum[t.Name] = g;
            squares[t.Name] = q;
        }
        return (sum, squares);
    }
}
