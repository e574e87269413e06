using EdgeAgent.Inference.Generation;

namespace EdgeAgent.Inference.Evaluation;

/// <summary>Result of a perplexity run.</summary>
public sealed record PerplexityResult(int Tokens, double Perplexity, double MeanNll, int Windows);

/// <summary>
/// Perplexity with the convention of docs/cli.md: the token stream (no BOS) is cut into non-overlapping windows
/// of ctx−1 tokens (a tail that does not fill a window is dropped); each window is fed as BOS + window with a
/// cleared KV cache and every token of the window is scored: position i's logits predict window token i.
/// </summary>
public static class Perplexity
{
    /// <summary>Scores <paramref name="tokens"/>; <paramref name="progress"/> gets (windows done, windows total).</summary>
    public static PerplexityResult Evaluate(InferenceSession session, IReadOnlyList<int> tokens, int ctx, int bos,
        Action<int, int>? progress = null, CancellationToken cancellation = default)
    {
        if (ctx < 2)
        {
            throw new ArgumentException("--ctx must be at least 2");
        }
        if (ctx > session.ContextLength)
        {
            throw new ArgumentException($"--ctx {ctx} exceeds the context of {session.ContextLength}");
        }
        int window = ctx - 1;
        int windows = tokens.Count / window;
        if (windows == 0)
        {
            throw new ArgumentException($"the text has {tokens.Count} tokens, fewer than one window of {window}");
        }
        int vocab = session.Model.Config.VocabSize;
        var input = new int[ctx];
        var logits = new float[ctx * vocab];
        double nll = 0;
        for (int w = 0; w < windows; w++)
        {
            cancellation.ThrowIfCancellationRequested();
            input[0] = bos;
            for (int i = 0; i < window; i++)
            {
                input[i + 1] = tokens[w * window + i];
            }
            session.Cache.Clear();
            session.Transformer.Forward(input, session.Cache, logits, allLogits: true);
            for (int i = 0; i < window; i++)
            {
                nll -= LogSoftmaxAt(logits.AsSpan(i * vocab, vocab), input[i + 1]);
            }
            progress?.Invoke(w + 1, windows);
        }
        int scored = windows * window;
        double mean = nll / scored;
        return new PerplexityResult(scored, Math.Exp(mean), mean, windows);
    }

    /// <summary>log softmax(logits)[target], computed stably in double.</summary>
    public static double LogSoftmaxAt(ReadOnlySpan<float> logits, int target)
    {
        float max = float.NegativeInfinity;
        foreach (var v in logits)
        {
            max = Math.Max(max, v);
        }
        double sum = 0;
        foreach (var v in logits)
        {
            sum += Math.Exp(v - max);
        }
        return logits[target] - max - Math.Log(sum);
    }
}
