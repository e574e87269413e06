using EdgeAgent.Compression.Calibration;
using EdgeAgent.Compression.Model;
using EdgeAgent.Inference.Gguf;

namespace EdgeAgent.Compression.Pruning;

/// <summary>Pruning criteria of <c>edgeagent prune</c>.</summary>
public enum PruneMethod
{
    Magnitude,
    Wanda,
    Taylor,
    Neuron,
    Heads,
    Layers,
}

/// <summary>Where the zeros go.</summary>
public enum PrunePattern
{
    Unstructured,
    TwoFour,
    Structured,
}

/// <summary>Settings of one pruning run.</summary>
public sealed record PruneOptions(PruneMethod Method, double Sparsity, PrunePattern? Pattern = null)
{
    public bool IsStructural => Method is PruneMethod.Neuron or PruneMethod.Heads or PruneMethod.Layers;

    public PrunePattern EffectivePattern => Pattern ?? (IsStructural ? PrunePattern.Structured : PrunePattern.Unstructured);

    public bool NeedsCalibration => Method is not PruneMethod.Magnitude;

    /// <summary>Checks the combination; every problem is an <see cref="ArgumentException"/> with a one-line message.</summary>
    public void Validate(bool hasCalibration)
    {
        if (!(Sparsity >= 0 && Sparsity <= 1))
        {
            throw new ArgumentException($"--sparsity {Sparsity} is outside 0..1");
        }
        if (IsStructural && EffectivePattern != PrunePattern.Structured)
        {
            throw new ArgumentException($"--method {Name} removes whole structures: use --pattern structured");
        }
        if (!IsStructural && EffectivePattern == PrunePattern.Structured)
        {
            throw new ArgumentException("--pattern structured needs --method neuron, heads or layers");
        }
        if (EffectivePattern == PrunePattern.TwoFour && Sparsity != 0.5)
        {
            throw new ArgumentException("--pattern 2:4 prunes exactly half: use --sparsity 0.5");
        }
        if (NeedsCalibration && !hasCalibration)
        {
            throw new ArgumentException($"--method {Name} needs --calibration TEXTFILE");
        }
    }

    private string Name => Method.ToString().ToLowerInvariant();
}

/// <summary>What a pruning run did.</summary>
public sealed record PruneResult(double Sparsity, long ParametersBefore, long ParametersAfter);

/// <summary>
/// Prunes a float model in place. Unstructured and 2:4 zero weights of the blocks' linear layers (embeddings, norms
/// and the output head are kept) by an <see cref="IImportanceSource"/>; structured pruning removes FFN neurons,
/// attention heads (whole kv groups) or blocks and shrinks the model, updating its metadata.
/// </summary>
public static class ModelPruner
{
    /// <summary>Runs the pruning; <paramref name="gradients"/> is needed for taylor only.</summary>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    /// <exception cref="NotSupportedException">taylor without <paramref name="gradients"/>.</exception>
    public static PruneResult Run(ModelTensors model, PruneOptions o, CalibrationData? calibration, IImportanceSource? gradients = null)
    {
        // taylor's calibration text arrives as gradients.
        o.Validate(calibration is not null || (o.Method == PruneMethod.Taylor && gradients is not null));
        long before = model.ParameterCount;
        switch (o.Method)
        {
            case PruneMethod.Neuron:
                StructuredPruner.Neurons(model, calibration!, o.Sparsity);
                break;
            case PruneMethod.Heads:
                StructuredPruner.Heads(model, calibration!, o.Sparsity);
                break;
            case PruneMethod.Layers:
                StructuredPruner.Layers(model, calibration!, o.Sparsity);
                break;
            default:
                var source = o.Method switch
                {
                    PruneMethod.Magnitude => new MagnitudeImportance(),
                    PruneMethod.Wanda => new ActivationImportance(calibration!),
                    _ => gradients ?? throw GradientImportance.Unavailable("taylor"),
                };
                long zeroed = 0, total = 0;
                foreach (var t in model.Tensors.Where(IsPrunable))
                {
                    zeroed += Unstructured(t, source, o.EffectivePattern, o.Sparsity);
                    total += t.Data.LongLength;
                }
                model.Metadata.Set("edgeagent.pruning.method", GgufValue.Of(source.Name));
                model.Metadata.Set("edgeagent.pruning.sparsity", GgufValue.Of((float)(total == 0 ? 0 : (double)zeroed / total)));
                return new PruneResult(total == 0 ? 0 : (double)zeroed / total, before, before - zeroed);
        }
        long after = model.ParameterCount;
        model.Metadata.Set("edgeagent.pruning.method", GgufValue.Of(o.Method.ToString().ToLowerInvariant()));
        model.Metadata.Set("edgeagent.pruning.sparsity", GgufValue.Of((float)o.Sparsity));
        return new PruneResult(1 - ((double)after / before), before, after);
    }

    /// <summary>The linear layers of the blocks.</summary>
    public static bool IsPrunable(FloatTensor t) => t.IsMatrix && CalibrationData.InputKey(t.Name) is not null && t.Name != "output.weight";

    /// <summary>Zeros the least important weights of one tensor; returns how many are zero afterwards (newly or not).</summary>
    public static long Unstructured(FloatTensor t, IImportanceSource source, PrunePattern pattern, double sparsity)
    {
        var score = source.Score(t);
        int rows = t.Rows, cols = t.Cols;
        if (pattern == PrunePattern.TwoFour)
        {
            if (cols % 4 != 0)
            {
                throw new ArgumentException($"'{t.Name}' has rows of {cols}, not a multiple of 4");
            }
            for (int i = 0; i < t.Data.Length; i += 4)
            {
                // Zero the two lowest scores of each group of four along the input dimension.
                Span<int> idx = [i, i + 1, i + 2, i + 3];
                idx.Sort((a, b) => score[a].CompareTo(score[b]));
                t.Data[idx[0]] = 0;
                t.Data[idx[1]] = 0;
            }
        }
        else if (source.PerRow)
        {
            int k = (int)Math.Round(sparsity * cols);
            var order = new int[cols];
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < cols; j++)
                {
                    order[j] = j;
                }
                var s = score.AsSpan(r * cols, cols).ToArray();
                Array.Sort(s, order);
                for (int j = 0; j < k; j++)
                {
                    t.Data[(r * cols) + order[j]] = 0;
                }
            }
        }
        else
        {
            long k = (long)Math.Round(sparsity * t.Data.Length);
            var order = Enumerable.Range(0, t.Data.Length).ToArray();
            Array.Sort((float[])score.Clone(), order);
            for (long j = 0; j < k; j++)
            {
                t.Data[order[j]] = 0;
            }
        }
        return t.Data.LongCount(v => v == 0);
    }
}
