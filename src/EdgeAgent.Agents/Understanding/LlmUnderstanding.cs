using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeAgent.Agents.Tools;
using EdgeAgent.Inference.ChatTemplates;
using EdgeAgent.Inference.Constraints;
using EdgeAgent.Inference.Generation;
using EdgeAgent.Inference.Sampling;

namespace EdgeAgent.Agents.Understanding;

/// <summary>
/// Understanding by a language model: the prompt of <see cref="PromptBuilder"/> in the model's chat template, then
/// greedy decoding or a <see cref="BeamSearch"/> under the grammar of the live registry
/// (<see cref="ToolCatalog.AnswerGrammar"/>), so the output is always a complete, schema-valid answer naming only tools
/// and entities that exist (or, cut short by the token limit, no calls). The KV cache keeps the longest prefix shared
/// with the previous prompt (the system message and inventory), so a warm request only evaluates what changed.
/// Not thread-safe (one session).
/// </summary>
public sealed class LlmUnderstanding : IUnderstanding, IDisposable
{
    private readonly InferenceSession _session;
    private readonly List<int> _cached = [];
    private string? _grammarKey;
    private JsonRecognizer? _grammar;
    private readonly BeamSearch? _beam; // RetryBeamWidth wide with grounding; BeamWidth used for the first search
    private readonly int _beamWidth;

    public LlmUnderstanding(InferenceSession session, string name, int maxTokens = 1024, int beamWidth = 1, GroundingWeights? grounding = null, bool splitClauses = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(beamWidth, 1);
        _session = session;
        Name = name;
        MaxTokens = maxTokens;
        Grounding = grounding;
        SplitClauses = splitClauses;
        _beamWidth = beamWidth;
        _beam = beamWidth > 1 || grounding is not null ? new BeamSearch(session, grounding is not null ? 2 * beamWidth : beamWidth) : null;
    }

    /// <summary>Hypotheses kept while decoding: 1 is greedy; more is a <see cref="BeamSearch"/> under the grammar.</summary>
    public int BeamWidth => _beamWidth;

    /// <summary>With grounding, an answer the prior charges anything is searched again with this many beams (twice
    /// <see cref="BeamWidth"/>), the higher-scoring answer kept.</summary>
    public int RetryBeamWidth => 2 * BeamWidth;

    /// <summary>The weights of the <see cref="GroundingPrior"/> added to the model's scores, or null for the model's
    /// scores alone.</summary>
    public GroundingWeights? Grounding { get; }

    /// <summary>Whether each clause of a compound request is understood on its own (<see cref="ClauseSplitter"/>),
    /// the calls joined in order (at most <see cref="ToolCatalog.MaxCalls"/>) and the replies joined. Every clause is
    /// decoded under the same grammar, so the joined answer is as valid as each of its parts.</summary>
    public bool SplitClauses { get; }

    public string Name { get; }

    public bool IsLanguageModel => true;

    /// <summary>Tokens generated at most. The grammar bounds the answer (≤ 6 calls, strings ≤ 120 characters), but a
    /// model that fills every string runs to several hundred tokens; an answer cut short is not schema-valid, so the
    /// default leaves room for the longest answers a model writes in practice.</summary>
    public int MaxTokens { get; }

    /// <summary>Time spent computing masks in the last request, and how many.</summary>
    public TimeSpan LastMaskTime { get; private set; }

    public int LastMaskCount { get; private set; }

    /// <summary>Prompt tokens actually evaluated in the last request (the rest came from the cache).</summary>
    public int LastEvaluatedPromptTokens { get; private set; }

    public static LlmUnderstanding Open(string path, int threads, int? context = null, string? name = null, int beamWidth = 1, GroundingWeights? grounding = null, bool splitClauses = false)
    {
        var session = InferenceSession.Open(path, threads, context);
        try
        {
            return new LlmUnderstanding(session, name ?? "llm:" + Path.GetFileName(path), beamWidth: beamWidth, grounding: grounding, splitClauses: splitClauses);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>The prompt tokens for an input (chat template, special tokens parsed).</summary>
    public int[] PromptTokens(UnderstandingInput input)
    {
        var model = _session.Model;
        var tokenizer = model.Tokenizer;
        var messages = new List<ChatMessage>
        {
            new("system", PromptBuilder.System(input.Devices, input.Recent)),
            new("user", input.Request),
        };
        string rendered = model.ChatTemplate.Render(messages, new ChatTemplateOptions
        {
            AddGenerationPrompt = true,
            BosToken = tokenizer.BosId >= 0 ? tokenizer.TokenText(tokenizer.BosId) : "",
            EosToken = tokenizer.EosId >= 0 ? tokenizer.TokenText(tokenizer.EosId) : "",
        });
        return tokenizer.Encode(rendered, addSpecial: false, parseSpecial: true);
    }

    public Proposal Propose(UnderstandingInput input, CancellationToken cancellation = default)
    {
        if (SplitClauses && ClauseSplitter.Split(input.Request, input.Devices) is { Count: > 1 } clauses)
        {
            var parts = new List<Proposal>();
            var maskTime = TimeSpan.Zero;
            int masks = 0, evaluated = 0;
            foreach (var clause in clauses)
            {
                parts.Add(ProposeOne(input with { Request = clause }, cancellation));
                maskTime += LastMaskTime;
                masks += LastMaskCount;
                evaluated += LastEvaluatedPromptTokens;
            }
            (LastMaskTime, LastMaskCount, LastEvaluatedPromptTokens) = (maskTime, masks, evaluated);
            var calls = Distinct(parts.SelectMany(p => p.Calls)).Take(ToolCatalog.MaxCalls).ToList();
            string reply = string.Join(' ', parts.Select(p => p.Reply).Where(r => r.Length > 0).Distinct());
            if (reply.Length > ToolCatalog.MaxReplyLength)
            {
                reply = parts.Select(p => p.Reply).FirstOrDefault(r => r.Length > 0) ?? "";
            }
            bool valid = parts.All(p => p.SchemaValid);
            return new Proposal(calls, reply, valid ? PromptBuilder.Answer(calls, reply) : string.Join('\n', parts.Select(p => p.RawOutput)),
                valid, parts.Sum(p => p.GeneratedTokens));
        }
        return ProposeOne(input, cancellation);
    }

    private Proposal ProposeOne(UnderstandingInput input, CancellationToken cancellation)
    {
        var tokenizer = _session.Model.Tokenizer;
        var prompt = PromptTokens(input);
        if (prompt.Length + 8 >= _session.ContextLength)
        {
            throw new InvalidOperationException($"the prompt has {prompt.Length} tokens; the model's context holds {_session.ContextLength}");
        }
        EnsureGrammar(input);
        var mask = new GrammarMask(_grammar!, TokenTrie.For(tokenizer));
        EvaluatePrompt(prompt);
        if (_beam is not null)
        {
            var prior = Grounding is { } w ? new GroundingPrior(input.Devices, input.Request, w) : null;
            var found = _beam.Run(prompt, mask, MaxTokens, cancellation, prior, _beamWidth);
            (LastMaskTime, LastMaskCount) = (found.MaskTime, found.MaskCount);
            if (prior is not null && found.Potential < 0)
            {
                // The prior is not satisfied (a named device without a call, a number unused, a foreign word…): search
                // again with twice the beams (in the same search object's caches) and keep whichever answer scores
                // higher. Only search errors change: the wider search's answer replaces the first only when it scores
                // higher under the same objective.
                var again = _beam.Run(prompt, mask, MaxTokens, cancellation, prior, RetryBeamWidth);
                (LastMaskTime, LastMaskCount) = (LastMaskTime + again.MaskTime, LastMaskCount + again.MaskCount);
                if (again.Complete && (!found.Complete || again.LogProbability + again.Potential > found.LogProbability + found.Potential))
                {
                    found = again;
                }
            }
            return Parse(Encoding.UTF8.GetString(found.Output), found.Complete, found.Tokens.Count);
        }

        var sampler = new SamplerChain(new SamplingOptions { Temperature = 0, RepeatPenalty = 1f, TopK = 0, TopP = 1f, MinP = 0f }, _session.Model.Config.VocabSize) { Mask = mask };
        var generated = new List<int>();
        Span<int> one = stackalloc int[1];
        while (generated.Count < MaxTokens && !mask.IsFinished && _session.Cache.Length < _session.ContextLength)
        {
            cancellation.ThrowIfCancellationRequested();
            int next = sampler.Sample(_session.Logits);
            if (tokenizer.IsEndOfGeneration(next))
            {
                break;
            }
            sampler.Accept(next);
            generated.Add(next);
            one[0] = next;
            _session.Append(one);
            _cached.Add(next);
        }
        LastMaskTime = mask.MaskTime;
        LastMaskCount = mask.MaskCount;
        string text = Encoding.UTF8.GetString(mask.Output);
        bool complete = mask.IsComplete || mask.IsFinished;
        return Parse(text, complete, generated.Count);
    }

    /// <summary>Evaluates the system prompt (everything before the request) and builds the grammar.</summary>
    public void Prepare(UnderstandingInput home)
    {
        EnsureGrammar(home);
        var prompt = PromptTokens(home with { Request = "" });
        if (prompt.Length + 8 < _session.ContextLength)
        {
            EvaluatePrompt(prompt);
        }
    }

    /// <summary>The grammar depends on which devices exist, not on their states: rebuilt only when the ids change.</summary>
    private void EnsureGrammar(UnderstandingInput input)
    {
        string key = string.Join(',', input.Devices.Select(d => d.EntityId));
        if (key != _grammarKey)
        {
            _grammar = new JsonRecognizer(ToolCatalog.AnswerGrammar(input.Devices), ToolCatalog.AnswerGrammarOptions);
            _grammarKey = key;
        }
    }

    /// <summary>Evaluates the prompt, reusing the cached prefix it shares with the last sequence.</summary>
    private void EvaluatePrompt(int[] prompt)
    {
        int common = 0;
        while (common < _cached.Count && common < prompt.Length && _cached[common] == prompt[common])
        {
            common++;
        }
        // At least the last prompt token is evaluated, to get its logits.
        common = Math.Min(common, prompt.Length - 1);
        _session.Cache.Length = common;
        _cached.RemoveRange(common, _cached.Count - common);
        _session.Append(prompt.AsSpan(common));
        _cached.AddRange(prompt.AsSpan(common));
        LastEvaluatedPromptTokens = prompt.Length - common;
    }

    /// <summary>Reads an answer; an incomplete one (token limit) yields no calls and is marked invalid.</summary>
    public static Proposal Parse(string text, bool complete, int tokens)
    {
        if (!complete)
        {
            return new Proposal([], "Sorry, I could not work out what to do.", text, SchemaValid: false, tokens);
        }
        try
        {
            var root = JsonNode.Parse(text) as JsonObject;
            var calls = Distinct((root?["tool_calls"] as JsonArray ?? []).Select(ToolCall.FromJson).OfType<ToolCall>()).ToList();
            string reply = root?["reply"]?.GetValue<string>() ?? "";
            return new Proposal(calls, reply, text, SchemaValid: root is not null, tokens);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return new Proposal([], "Sorry, I could not work out what to do.", text, SchemaValid: false, tokens);
        }
    }

    /// <summary>The calls without repeats: a call the same as an earlier one (tool and arguments) is that call again,
    /// not a second action.</summary>
    public static IEnumerable<ToolCall> Distinct(IEnumerable<ToolCall> calls)
    {
        var seen = new List<ToolCall>();
        foreach (var c in calls)
        {
            if (!seen.Any(c.SameAs))
            {
                seen.Add(c);
                yield return c;
            }
        }
    }

    public void Dispose() => _session.Dispose();
}
