using System.Diagnostics;
using EdgeAgent.Inference.Evaluation;
using EdgeAgent.Inference.Generation;
using EdgeAgent.Inference.Sampling;

namespace EdgeAgent.Compression.Evaluation;

/// <summary>What <c>edgeagent eval</c> reports (docs/cli.md).</summary>
public sealed record EvalResult(
    double Perplexity, double? KlDivergence, double? Top1Agreement, double BitsPerWeight, long Bytes,
    double DecodeTokensPerSecond, int Tokens);

/// <summary>Settings of an evaluation.</summary>
public sealed record EvalOptions
{
    public int Context { get; init; } = 256;
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Greedy tokens timed for the decode speed (after an untimed warm-up run).</summary>
    public int DecodeTokens { get; init; } = 32;
}

/// <summary>
/// Perplexity with the <c>perplexity</c> command's windows (BOS + ctx−1 tokens, cleared cache, every window token
/// scored); against a reference model on the same windows, the mean KL(P_ref ‖ P_model) in nats per token and the
/// fraction of positions whose arg-max agrees; the file's bits per weight and bytes; greedy decode speed.
/// </summary>
public static class ModelEvaluator
{
    /// <exception cref="ArgumentException">Too little text, a bad context, or a reference with another vocabulary.</exception>
    public static EvalResult Evaluate(string modelPath, string text, string? referencePath, EvalOptions o, Action<int, int>? progress = null) =>
        Evaluate(modelPath, null, text, referencePath, o, progress);

    /// <summary>The same over token ids (no BOS) instead of text.</summary>
    public static EvalResult Evaluate(string modelPath, IReadOnlyList<int> tokens, string? referencePath, EvalOptions o, Action<int, int>? progress = null) =>
        Evaluate(modelPath, tokens, null, referencePath, o, progress);

    private static EvalResult Evaluate(string modelPath, IReadOnlyList<int>? ids, string? text, string? referencePath, EvalOptions o, Action<int, int>? progress)
    {
        using var session = InferenceSession.Open(modelPath, o.Threads, o.Context);
        using var reference = referencePath is null ? null : InferenceSession.Open(referencePath, o.Threads, o.Context);
        var c = session.Model.Config;
        if (reference is not null && reference.Model.Config.VocabSize != c.VocabSize)
        {
            throw new ArgumentException($"the reference has {reference.Model.Config.VocabSize} tokens in its vocabulary, the model {c.VocabSize}");
        }
        if (o.Context < 2 || o.Context > session.ContextLength)
        {
            throw new ArgumentException($"--ctx must be in 2..{session.ContextLength}");
        }
        var tokenizer = session.Model.Tokenizer;
        if (tokenizer.BosId < 0)
        {
            throw new ArgumentException("the model's vocabulary has no BOS token, which this perplexity convention needs");
        }
        IReadOnlyList<int> tokens = ids ?? tokenizer.Encode(text!, addSpecial: false, parseSpecial: false);
        int window = o.Context - 1, windows = tokens.Count / window, vocab = c.VocabSize;
        if (windows == 0)
        {
            throw new ArgumentException($"the text has {tokens.Count} tokens, fewer than one window of {window}");
        }
        if (tokens.Any(t => (uint)t >= (uint)vocab))
        {
            throw new ArgumentException("a token id is outside the model's vocabulary");
        }
        var input = new int[o.Context];
        var logits = new float[o.Context * vocab];
        var refLogits = new float[o.Context * vocab];
        double nll = 0, kl = 0;
        long agree = 0;
        for (int w = 0; w < windows; w++)
        {
            input[0] = tokenizer.BosId;
            for (int i = 0; i < window; i++)
            {
                input[i + 1] = tokens[(w * window) + i];
            }
            session.Cache.Clear();
            session.Transformer.Forward(input, session.Cache, logits, allLogits: true);
            if (reference is not null)
            {
                reference.Cache.Clear();
                reference.Transformer.Forward(input, reference.Cache, refLogits, allLogits: true);
            }
            for (int i = 0; i < window; i++)
            {
                var l = logits.AsSpan(i * vocab, vocab);
                nll -= Perplexity.LogSoftmaxAt(l, input[i + 1]);
                if (reference is not null)
                {
                    var r = refLogits.AsSpan(i * vocab, vocab);
                    kl += KlDivergence(r, l);
                    agree += SamplerChain.ArgMax(r) == SamplerChain.ArgMax(l) ? 1 : 0;
                }
            }
            progress?.Invoke(w + 1, windows);
        }
        int scored = windows * window;
        var file = session.Model.File;
        long elements = file.Tensors.Sum(t => t.ElementCount);
        long dataBytes = file.Tensors.Sum(t => t.ByteSize);
        return new EvalResult(
            Math.Exp(nll / scored),
            reference is null ? null : kl / scored,
            reference is null ? null : (double)agree / scored,
            8.0 * dataBytes / elements,
            new FileInfo(modelPath).Length,
            DecodeSpeed(session, tokens, tokenizer.BosId, o.DecodeTokens),
            scored);
    }

    /// <summary>
    /// Token ids sampled from a model at temperature 1 (seeded): <paramref name="windows"/> sequences of ctx−1
    /// tokens, each sampled after BOS, so they line up with the evaluation windows. In-distribution evaluation data
    /// for models whose training text or tokenizer is not at hand.
    /// </summary>
    public static int[] SampleTokens(string modelPath, int windows, int context, int seed = 1, int threads = 2)
    {
        using var s = InferenceSession.Open(modelPath, threads, context);
        var rng = new Random(seed);
        var tokens = new List<int>(windows * (context - 1));
        int bos = s.Model.Tokenizer.BosId;
        for (int w = 0; w < windows; w++)
        {
            s.Evaluate([bos]);
            for (int i = 1; i < context; i++)
            {
                var logits = s.Logits;
                float max = logits.Max();
                double sum = 0;
                foreach (var v in logits)
                {
                    sum += Math.Exp(v - max);
                }
                double u = rng.NextDouble() * sum, acc = 0;
                int next = logits.Length - 1;
                for (int k = 0; k < logits.Length; k++)
                {
                    acc += Math.Exp(logits[k] - max);
                    if (acc >= u)
                    {
                        next = k;
                        break;
                    }
                }
                tokens.Add(next);
                s.Append([next]);
            }
        }
        return [.. tokens];
    }

    /// <summary>KL(softmax(p) ‖ softmax(q)) in nats, in double.</summary>
    public static double KlDivergence(ReadOnlySpan<float> p, ReadOnlySpan<float> q)
    {
        double lp = LogSumExp(p), lq = LogSumExp(q), kl = 0;
        for (int i = 0; i < p.Length; i++)
        {
            double a = p[i] - lp;
            kl += Math.Exp(a) * (a - (q[i] - lq));
        }
        return Math.Max(0, kl);
    }

    private static double LogSumExp(ReadOnlySpan<float> x)
    {
        float max = float.NegativeInfinity;
        foreach (var v in x)
        {
            max = Math.Max(max, v);
        }
        double s = 0;
        foreach (var v in x)
        {
            s += Math.Exp(v - max);
        }
        return max + Math.Log(s);
    }

    private static double DecodeSpeed(InferenceSession s, IReadOnlyList<int> tokens, int bos, int gen)
    {
        int promptLength = Math.Min(8, tokens.Count);
        gen = Math.Max(1, Math.Min(gen, s.ContextLength - promptLength - 1));
        var prompt = new int[promptLength + 1];
        prompt[0] = bos;
        for (int i = 0; i < promptLength; i++)
        {
            prompt[i + 1] = tokens[i];
        }
        double Run()
        {
            s.Evaluate(prompt);
            var clock = Stopwatch.StartNew();
            Span<int> one = stackalloc int[1];
            for (int i = 0; i < gen; i++)
            {
                one[0] = SamplerChain.ArgMax(s.Logits);
                s.Append(one);
            }
            return gen / clock.Elapsed.TotalSeconds;
        }
        Run(); // warm-up: JIT and page-in
        return Run();
    }
}
