using System.Diagnostics;
using System.Text;
using EdgeAgent.Inference.Sampling;
using EdgeAgent.Inference.Tokenizers;

namespace EdgeAgent.Inference.Generation;

/// <summary>Settings of one generation.</summary>
public sealed record GenerationOptions
{
    public int MaxTokens { get; init; } = 128;
    public SamplingOptions Sampling { get; init; } = new();
    /// <summary>Generation stops when the text ends with one of these; the stop string is not returned.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    /// <summary>Stop at end-of-generation tokens (EOS, EOT…) of the tokenizer.</summary>
    public bool StopAtEndOfGeneration { get; init; } = true;
    /// <summary>Optional constraint on the generated tokens.</summary>
    public ITokenMask? Mask { get; init; }
}

/// <summary>What a generation produced, with its timing.</summary>
public sealed record GenerationResult(
    string Text, IReadOnlyList<int> TokenIds, int PromptTokens, string FinishReason,
    double PrefillSeconds, double DecodeSeconds)
{
    public double PrefillTokensPerSecond => PrefillSeconds > 0 ? PromptTokens / PrefillSeconds : 0;
    public double DecodeTokensPerSecond => DecodeSeconds > 0 && TokenIds.Count > 0 ? TokenIds.Count / DecodeSeconds : 0;
}

/// <summary>
/// The generation loop: prefill the prompt, then sample one token at a time until a stop condition (max tokens,
/// an end-of-generation token, a stop string, the context limit). Text is streamed as it becomes complete UTF-8;
/// text that could be the start of a stop string is held back until it is known not to be one.
/// </summary>
public sealed class Generator(InferenceSession session, Tokenizer? tokenizer)
{
    /// <summary>Generates from <paramref name="prompt"/> (a fresh sequence). <paramref name="onText"/> receives text
    /// pieces as they become final; <paramref name="onToken"/> every generated id.</summary>
    public GenerationResult Generate(IReadOnlyList<int> prompt, GenerationOptions options,
        Action<string>? onText = null, Action<int>? onToken = null, CancellationToken cancellation = default)
    {
        if (prompt.Count == 0)
        {
            throw new ArgumentException("the prompt is empty: give at least one token");
        }
        if (options.MaxTokens < 0)
        {
            throw new ArgumentException("max tokens must be ≥ 0");
        }
        int ctx = session.ContextLength;
        if (prompt.Count >= ctx)
        {
            throw new ArgumentException($"the prompt has {prompt.Count} tokens; the context holds {ctx}");
        }
        var sampler = new SamplerChain(options.Sampling, session.Model.Config.VocabSize) { Mask = options.Mask };
        foreach (var t in prompt)
        {
            sampler.Accept(t, advanceMask: false);
        }
        var sw = Stopwatch.StartNew();
        session.Evaluate(prompt.ToArray());
        double prefill = sw.Elapsed.TotalSeconds;
        sw.Restart();

        var decoder = tokenizer?.CreateStreamingDecoder();
        var stops = new StopStrings(options.StopStrings);
        var text = new StringBuilder();
        int emitted = 0;           // chars of `text` already handed to onText
        var ids = new List<int>();
        string finish = "length";
        Span<int> one = stackalloc int[1];
        while (ids.Count < options.MaxTokens)
        {
            cancellation.ThrowIfCancellationRequested();
            int next = sampler.Sample(session.Logits);
            if (options.StopAtEndOfGeneration && tokenizer is not null && tokenizer.IsEndOfGeneration(next))
            {
                finish = "stop";
                break;
            }
            ids.Add(next);
            sampler.Accept(next);
            onToken?.Invoke(next);
            if (decoder is not null)
            {
                int before = text.Length;
                text.Append(decoder.Add(next));
                int safe = text.Length;
                if (!stops.IsEmpty && text.Length > before)
                {
                    string all = text.ToString();
                    int stopAt = stops.Find(all, before);
                    if (stopAt >= 0)
                    {
                        text.Length = stopAt;
                        finish = "stop";
                        break;
                    }
                    safe -= stops.HeldBack(all);
                }
                if (safe > emitted)
                {
                    onText?.Invoke(text.ToString(emitted, safe - emitted));
                    emitted = safe;
                }
            }
            if (options.Mask?.IsFinished == true)
            {
                finish = "stop";
                break;
            }
            if (ids.Count >= options.MaxTokens || session.Cache.Length >= ctx)
            {
                break;
            }
            one[0] = next;
            session.Append(one);
        }
        if (decoder is not null && finish == "length")
        {
            text.Append(decoder.Flush());
        }
        if (text.Length > emitted)
        {
            onText?.Invoke(text.ToString(emitted, text.Length - emitted));
        }
        return new GenerationResult(text.ToString(), ids, prompt.Count, finish, prefill, sw.Elapsed.TotalSeconds);
    }
}
