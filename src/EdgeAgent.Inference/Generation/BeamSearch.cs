using EdgeAgent.Inference.Constraints;
using EdgeAgent.Inference.Model;

namespace EdgeAgent.Inference.Generation;

/// <summary>The answer a <see cref="BeamSearch"/> found.</summary>
/// <param name="Tokens">The generated tokens (no end-of-generation token).</param>
/// <param name="Output">The bytes the grammar accepted.</param>
/// <param name="Complete">The document is complete; false only when the token limit cut every hypothesis short.</param>
/// <param name="LogProbability">Sum of the tokens' log-probabilities under the mask (each step renormalized over the
/// allowed tokens).</param>
/// <param name="Potential">The <see cref="IOutputPrior"/>'s potential of the output (0 without a prior); the search
/// ranked documents by <c>LogProbability + Potential</c>.</param>
/// <param name="Forwards">Single-token forward passes spent (about width × tokens).</param>
/// <param name="MaskCount">Masks computed over all hypotheses.</param>
/// <param name="MaskTime">Time spent computing them.</param>
public sealed record BeamResult(IReadOnlyList<int> Tokens, byte[] Output, bool Complete, double LogProbability, double Potential, int Forwards, int MaskCount, TimeSpan MaskTime);

/// <summary>
/// Beam search under a grammar: keeps the <see cref="Width"/> most probable partial documents instead of the single
/// greedy one, so a choice whose first token is slightly less likely (a switch, not a light) wins when what follows
/// it (the device that fits the request) is far more likely. Scores are the sums of log-probabilities renormalized
/// over the tokens the grammar allows, with no length normalization; the search stops as soon as the best finished
/// document scores at least as high as every open one (scores only fall as tokens are added, so none of them can
/// overtake it) — the answer is the most probable document among those the beams kept.
/// <para>
/// Each hypothesis has its own KV cache, sized to the prompt and the answer (not the whole context); all of them start
/// from the prompt the session has evaluated, copied once (and only the part that changed since the previous search). A hypothesis forked from another copies its parent's
/// answer positions. One search at a time; not thread-safe.
/// </para>
/// </summary>
public sealed class BeamSearch
{
    private readonly InferenceSession _session;
    private readonly KvCache?[] _slots;
    private readonly List<int>[] _slotPrompt;
    private float[][] _logits;
    private float[][] _nextLogits;
    private int _needed;

    public BeamSearch(InferenceSession session, int width)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        _session = session;
        Width = width;
        _slots = new KvCache?[width];
        _slotPrompt = new List<int>[width];
        for (int i = 0; i < width; i++)
        {
            _slotPrompt[i] = [];
        }
        int v = session.Model.Config.VocabSize;
        _logits = NewBuffers(width, v);
        _nextLogits = NewBuffers(width, v);
    }

    /// <summary>Hypotheses kept at each step (at most; <see cref="Run"/> may keep fewer).</summary>
    public int Width { get; }

    /// <summary>With an <see cref="IOutputPrior"/>, how many of each hypothesis' most probable allowed tokens are
    /// re-ranked by it at each step (at least <see cref="Width"/>), besides the tokens that start one of its
    /// <see cref="IOutputPrior.Continuations"/>.</summary>
    public int PriorCandidates { get; init; } = 16;

    /// <summary>Bytes held by the hypotheses' KV caches (allocated on first use).</summary>
    public long CacheBytes => _slots.Sum(s => s?.Bytes ?? 0);

    /// <summary>
    /// Searches from the current state of the session: its cache holds exactly <paramref name="prompt"/> and its
    /// <see cref="InferenceSession.Logits"/> are those of the last prompt token. <paramref name="mask"/> is the grammar
    /// at the start of the answer; it is cloned, not changed. The session's cache is only read. <paramref name="prior"/>,
    /// when given, is added to the scores (<see cref="IOutputPrior"/>). <paramref name="width"/> keeps fewer hypotheses
    /// than <see cref="Width"/> (the caches already allocated are reused, so one search object serves a narrow search
    /// and a wider one).
    /// </summary>
    public BeamResult Run(ReadOnlySpan<int> prompt, GrammarMask mask, int maxTokens, CancellationToken cancellation = default, IOutputPrior? prior = null, int? width = null)
    {
        int w = width ?? Width;
        ArgumentOutOfRangeException.ThrowIfLessThan(w, 1, nameof(width));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(w, Width, nameof(width));
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        if (_session.Cache.Length != prompt.Length || prompt.Length == 0)
        {
            throw new InvalidOperationException("the session's cache must hold exactly the prompt");
        }
        int start = prompt.Length;
        int capacity = _session.ContextLength;
        _needed = (int)Math.Min(capacity, (long)start + maxTokens);
        int v = _session.Model.Config.VocabSize;
        var eog = new HashSet<int>(TokenTrie.For(_session.Model.Tokenizer).EndOfGeneration);
        int forwards = 0, maskCount = 0;
        var maskTime = TimeSpan.Zero;
        var created = new List<GrammarMask>();

        var trie = TokenTrie.For(_session.Model.Tokenizer);
        int perHypothesis = prior is null ? w : Math.Max(w, PriorCandidates);
        double potential0 = prior?.Potential(mask.Output) ?? 0;
        var first = new Hypothesis(0, mask.Clone(), [], potential0) { Potential = potential0 };
        created.Add(first.Mask);
        PreparePrompt(0, prompt);
        _session.Logits.AsSpan(0, v).CopyTo(_logits[0]);
        var open = new List<Hypothesis> { first };
        Hypothesis? best = null;
        double bestScore = double.NegativeInfinity;
        var candidates = new List<(Hypothesis Parent, int Token, double Score, double LogProbability, double Potential)>();
        var bytes = new List<byte>();
        var order = new int[v];
        var nominated = new List<int>();

        for (int step = 0; step < maxTokens && open.Count > 0 && start + step < capacity; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            candidates.Clear();
            for (int b = 0; b < open.Count; b++)
            {
                var h = open[b];
                var logits = _logits[b];
                h.Mask.Apply(logits);
                double max = double.NegativeInfinity;
                for (int i = 0; i < v; i++)
                {
                    max = Math.Max(max, logits[i]);
                }
                if (double.IsNegativeInfinity(max))
                {
                    continue; // nothing allowed: a dead end of the grammar
                }
                double sum = 0;
                for (int i = 0; i < v; i++)
                {
                    sum += Math.Exp(logits[i] - max);
                }
                double lse = max + Math.Log(sum);
                byte[]? output = prior is null ? null : h.Mask.Output;
                var top = TopAllowed(logits, perHypothesis, order);
                if (prior is not null)
                {
                    nominated.Clear();
                    foreach (var text in prior.Continuations(output))
                    {
                        trie.AddPrefixTokens(text, nominated);
                    }
                    foreach (int t in nominated)
                    {
                        if (!float.IsNegativeInfinity(logits[t]) && !top.Contains(t))
                        {
                            top.Add(t);
                        }
                    }
                }
                foreach (int t in top)
                {
                    double logProbability = h.LogProbability + logits[t] - lse;
                    double potential = h.Potential;
                    if (prior is not null && !eog.Contains(t))
                    {
                        bytes.Clear();
                        bytes.AddRange(output!);
                        bytes.AddRange(trie.TokenBytes[t]);
                        potential = prior.Potential(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
                    }
                    candidates.Add((h, t, logProbability + potential, logProbability, potential));
                }
            }
            candidates.Sort((a, b) => b.Score.CompareTo(a.Score));

            var next = new List<Hypothesis>(w);
            foreach (var (parent, token, score, logProbability, potential) in candidates)
            {
                if (next.Count == w || score <= bestScore)
                {
                    break;
                }
                if (eog.Contains(token))
                {
                    if (parent.Mask.IsComplete)
                    {
                        best = parent with { Score = score, LogProbability = logProbability };
                        bestScore = score;
                    }
                    continue;
                }
                var childMask = parent.Mask.Clone();
                created.Add(childMask);
                childMask.Accept(token);
                var child = new Hypothesis(parent.Slot, childMask, [.. parent.Tokens, token], score) { Parent = parent, LogProbability = logProbability, Potential = potential };
                if (childMask.IsFinished)
                {
                    best = child;
                    bestScore = score;
                    continue;
                }
                next.Add(child);
            }
            open = next;
            if (next.Count == 0)
            {
                break; // the best finished document outscores every open one
            }

            // Slots: a parent's first child continues in the parent's cache; further children take the caches of
            // hypotheses that had none, after copying the parent's answer positions (the prompt is already there).
            var used = new HashSet<int>();
            var pending = new List<Hypothesis>();
            foreach (var h in next)
            {
                if (used.Add(h.Parent!.Slot))
                {
                    h.Slot = h.Parent.Slot;
                }
                else
                {
                    pending.Add(h);
                }
            }
            int free = 0;
            foreach (var h in pending)
            {
                while (used.Contains(free))
                {
                    free++;
                }
                used.Add(free);
                h.Slot = free;
                PreparePrompt(free, prompt);
                Slot(free, _needed).CopyFrom(Slot(h.Parent!.Slot, _needed), start, h.Tokens.Count - 1);
            }

            for (int b = 0; b < next.Count; b++)
            {
                var h = next[b];
                var cache = Slot(h.Slot, _needed);
                cache.Length = start + h.Tokens.Count - 1;
                _session.Transformer.Forward([h.Tokens[^1]], cache, _nextLogits[b]);
                forwards++;
                h.Parent = null; // let the chain of parents go
            }
            (_logits, _nextLogits) = (_nextLogits, _logits);
        }

        foreach (var m in created)
        {
            maskCount += m.MaskCount;
            maskTime += m.MaskTime;
        }
        if (best is not null)
        {
            return new BeamResult(best.Tokens, best.Mask.Output, true, best.LogProbability, best.Potential, forwards, maskCount, maskTime);
        }
        // The token limit (or the context) cut every hypothesis short: the most probable partial one.
        var partial = open.Count > 0 ? open.MaxBy(h => h.Score)! : first;
        return new BeamResult(partial.Tokens, partial.Mask.Output, false, partial.LogProbability, partial.Potential, forwards, maskCount, maskTime);
    }

    /// <summary>Makes slot <paramref name="slot"/>'s positions [0, prompt) equal to the session's, copying only what
    /// changed since that slot last held a prompt.</summary>
    private void PreparePrompt(int slot, ReadOnlySpan<int> prompt)
    {
        var cache = Slot(slot, _needed);
        var held = _slotPrompt[slot];
        int common = 0;
        while (common < held.Count && common < prompt.Length && held[common] == prompt[common])
        {
            common++;
        }
        if (common == prompt.Length && held.Count == prompt.Length)
        {
            return;
        }
        cache.CopyFrom(_session.Cache, common, prompt.Length - common);
        held.RemoveRange(common, held.Count - common);
        held.AddRange(prompt[common..]);
    }

    /// <summary>Slot <paramref name="i"/>'s cache, (re)allocated to hold at least <paramref name="needed"/> positions:
    /// sized to the prompt and answer, not the whole context, so a long-context model does not pay for the beams.</summary>
    private KvCache Slot(int i, int needed)
    {
        var cache = _slots[i];
        if (cache is null || cache.Capacity < needed)
        {
            _slots[i] = cache = new KvCache(_session.Model.Config, Math.Min(_session.ContextLength, (needed + 255) & ~255));
            _slotPrompt[i].Clear();
        }
        return cache;
    }

    /// <summary>The indices of the <paramref name="k"/> largest finite values, largest first.</summary>
    private static List<int> TopAllowed(float[] logits, int k, int[] order)
    {
        int n = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            if (!float.IsNegativeInfinity(logits[i]))
            {
                order[n++] = i;
            }
        }
        var top = new List<int>(k);
        for (int j = 0; j < n; j++)
        {
            int t = order[j];
            int pos = top.Count;
            while (pos > 0 && logits[top[pos - 1]] < logits[t])
            {
                pos--;
            }
            if (pos < k)
            {
                top.Insert(pos, t);
                if (top.Count > k)
                {
                    top.RemoveAt(k);
                }
            }
        }
        return top;
    }

    private static float[][] NewBuffers(int count, int v)
    {
        var buffers = new float[count][];
        for (int i = 0; i < count; i++)
        {
            buffers[i] = new float[v];
        }
        return buffers;
    }

    /// <summary>A partial document: <see cref="Score"/> is <see cref="LogProbability"/> + <see cref="Potential"/>.</summary>
    private sealed record Hypothesis(int Slot, GrammarMask Mask, List<int> Tokens, double Score)
    {
        public int Slot { get; set; } = Slot;
        public Hypothesis? Parent { get; set; }
        public double LogProbability { get; init; }
        public double Potential { get; init; }
    }
}
