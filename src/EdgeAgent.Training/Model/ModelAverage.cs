using EdgeAgent.Inference.Tokenizers;

namespace EdgeAgent.Training.Model;

/// <summary>
/// Weighted average of the parameters of several models of one shape and one tokenizer (a "model soup"): useful for
/// models fine-tuned from a common parent, where the average often keeps what each fine-tune learnt. Models trained
/// from different initializations do not average meaningfully; nothing here can tell, so that is the caller's call.
/// </summary>
public static class ModelAverage
{
    /// <summary>
    /// Σ wᵢ·pᵢ / Σ wᵢ for every parameter, summed in double in the order given and rounded once to float, so the result
    /// does not depend on anything but the inputs (a model averaged with itself is itself, bit for bit).
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than one model, a count of weights that does not match, a negative,
    /// non-finite or all-zero weight, models of different shapes, or different tokenizers (one-line reasons).</exception>
    public static (ModelShape Shape, float[] Parameters, TokenizerVocab Vocab) Average(
        IReadOnlyList<(ModelShape Shape, float[] Parameters, TokenizerVocab Vocab)> models, IReadOnlyList<double> weights)
    {
        if (models.Count == 0)
        {
            throw new ArgumentException("no models to average");
        }
        if (weights.Count != models.Count)
        {
            throw new ArgumentException($"{weights.Count} weight(s) for {models.Count} model(s)");
        }
        double total = 0;
        foreach (var w in weights)
        {
            if (!double.IsFinite(w) || w < 0)
            {
                throw new ArgumentException($"weight {w} is not a finite non-negative number");
            }
            total += w;
        }
        if (total <= 0)
        {
            throw new ArgumentException("the weights sum to 0");
        }
        var (shape, first, vocab) = models[0];
        for (int m = 1; m < models.Count; m++)
        {
            if (models[m].Shape != shape)
            {
                throw new ArgumentException($"model {m + 1} has another shape ({Describe(models[m].Shape)}) than model 1 ({Describe(shape)})");
            }
            if (models[m].Parameters.Length != first.Length)
            {
                throw new ArgumentException($"model {m + 1} has {models[m].Parameters.Length} parameters, model 1 {first.Length}");
            }
            if (!SameTokenizer(models[m].Vocab, vocab))
            {
                throw new ArgumentException($"model {m + 1} has another tokenizer than model 1 (averaging needs the same token ids)");
            }
        }
        // Per parameter, the models in order (zero weights skipped), in a double local: no second array of doubles
        // the size of the model (8 bytes a parameter) next to the inputs.
        var scaled = new List<(double W, float[] P)>();
        for (int m = 0; m < models.Count; m++)
        {
            if (weights[m] != 0)
            {
                scaled.Add((weights[m] / total, models[m].Parameters));
            }
        }
        var result = new float[first.Length];
        for (int i = 0; i < result.Length; i++)
        {
            double sum = 0;
            foreach (var (w, p) in scaled)
            {
                sum += w * p[i];
            }
            result[i] = (float)sum;
        }
        return (shape, result, vocab);
    }

    /// <summary>Reads the GGUF files and averages them (<see cref="Average(IReadOnlyList{ValueTuple{ModelShape, float[], TokenizerVocab}}, IReadOnlyList{double})"/>).</summary>
    public static (ModelShape Shape, float[] Parameters, TokenizerVocab Vocab) Average(IReadOnlyList<string> paths, IReadOnlyList<double> weights)
    {
        if (weights.Count != paths.Count)
        {
            throw new ArgumentException($"{weights.Count} weight(s) for {paths.Count} model(s)");
        }
        return Average(paths.Select(ModelFile.Read).ToList(), weights);
    }

    private static bool SameTokenizer(TokenizerVocab a, TokenizerVocab b) =>
        a.Model == b.Model && a.Pre == b.Pre && a.Tokens.AsSpan().SequenceEqual(b.Tokens)
        && (a.Merges ?? []).AsSpan().SequenceEqual(b.Merges ?? [])
        && a.BosId == b.BosId && a.EosId == b.EosId && a.EotId == b.EotId;

    private static string Describe(ModelShape s) =>
        $"dim {s.Dim}, {s.Layers} layers, {s.Heads}/{s.KvHeads} heads, ffn {s.FfnDim}, vocab {s.VocabSize}";
}
