using EdgeAgent.Training.Data;
using EdgeAgent.Training.Model;

namespace EdgeAgent.Training.Hooks;

/// <summary>
/// Runs a model over a calibration text without updating it and collects what compression needs: activation
/// statistics of every linear input, and per-weight gradient sums of the cross-entropy (one batch at a time).
/// </summary>
public static class Calibration
{
    /// <summary>Feeds every evaluation window of <paramref name="data"/> (BOS + S−1 tokens) through <paramref name="model"/>.
    /// Returns the mean loss per token.</summary>
    public static double Run(TrainableTransformer<float> model, TokenDataset data, ActivationStatistics? activations,
        GradientStatistics? gradients, int maxWindows = int.MaxValue)
    {
        int windows = Math.Min(maxWindows, data.EvalWindows(model.SeqLen));
        if (windows == 0)
        {
            throw new ArgumentException($"the calibration text has {data.Count} tokens, fewer than one window of {model.SeqLen - 1}");
        }
        var inputs = new int[model.Rows];
        var targets = new int[model.Rows];
        double sum = 0;
        long count = 0;
        for (int w = 0; w < windows; w += model.Batch)
        {
            data.EvalBatch(w, model.Batch, model.SeqLen, inputs, targets);
            for (int r = Math.Max(0, windows - w) * model.SeqLen; r < targets.Length; r++)
            {
                targets[r] = -1;
            }
            model.Forward(inputs);
            activations?.Accumulate(model, targets);
            int n = 0;
            foreach (int t in targets)
            {
                n += t >= 0 ? 1 : 0;
            }
            var (s, _) = model.CrossEntropy(targets, gradients is null ? null : 1f / n);
            sum += s;
            count += n;
            if (gradients is not null)
            {
                model.ZeroGradients();
                model.Backward();
                gradients.Accumulate(model.Gradients);
            }
        }
        return sum / count;
    }
}
