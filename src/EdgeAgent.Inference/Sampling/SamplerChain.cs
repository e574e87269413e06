namespace EdgeAgent.Inference.Sampling;

/// <summary>
/// Picks the next token from logits, in llama.cpp's default order: repetition penalty → (mask) → top-k → top-p →
/// min-p → temperature → draw from the softmax with a seeded <see cref="Pcg32"/>. Temperature 0 is greedy
/// (argmax after penalty and mask). Candidate buffers are allocated once for the vocabulary size.
/// </summary>
public sealed class SamplerChain
{
    private readonly SamplingOptions _o;
    private readonly int[] _ids;
    private readonly float[] _vals;
    private readonly int[] _recent;
    private int _recentCount;
    private int _recentHead;
    private Pcg32 _rng;

    public SamplerChain(SamplingOptions options, int vocabSize)
    {
        options.Validate();
        _o = options;
        _ids = new int[vocabSize];
        _vals = new float[vocabSize];
        _recent = new int[Math.Max(1, options.RepeatLastN)];
        _rng = new Pcg32(options.Seed);
    }

    public SamplingOptions Options => _o;

    /// <summary>Optional constraint applied before selection.</summary>
    public ITokenMask? Mask { get; set; }

    /// <summary>Remembers a token for the repetition penalty (prompt tokens too) and advances the mask.</summary>
    public void Accept(int token, bool advanceMask = true)
    {
        if (_o.RepeatLastN > 0)
        {
            _recent[_recentHead] = token;
            _recentHead = (_recentHead + 1) % _recent.Length;
            _recentCount = Math.Min(_recentCount + 1, _recent.Length);
        }
        if (advanceMask)
        {
            Mask?.Accept(token);
        }
    }

    /// <summary>Chooses a token. <paramref name="logits"/> is modified in place (penalty, mask).</summary>
    public int Sample(Span<float> logits)
    {
        ApplyPenalty(logits);
        Mask?.Apply(logits);
        if (_o.Temperature <= 0)
        {
            return ArgMax(logits);
        }

        // top-k: the k best candidates, sorted descending.
        int n = logits.Length;
        int k = _o.TopK > 0 ? Math.Min(_o.TopK, n) : n;
        int count = SelectTop(logits, k);
        if (count == 0)
        {
            return ArgMax(logits);
        }
        var ids = _ids.AsSpan(0, count);
        var vals = _vals.AsSpan(0, count);

        // top-p on the softmax of the (untempered) logits: keep the smallest prefix whose mass reaches p.
        if (_o.TopP < 1f)
        {
            float max = vals[0];
            double total = 0;
            for (int i = 0; i < count; i++)
            {
                total += Math.Exp(vals[i] - max);
            }
            double cum = 0;
            for (int i = 0; i < count; i++)
            {
                cum += Math.Exp(vals[i] - max) / total;
                if (cum >= _o.TopP)
                {
                    count = i + 1;
                    break;
                }
            }
        }
        // min-p: keep logits ≥ max + ln(min_p).
        if (_o.MinP > 0f)
        {
            float threshold = vals[0] + MathF.Log(_o.MinP);
            int keep = 1;
            while (keep < count && vals[keep] >= threshold)
            {
                keep++;
            }
            count = keep;
        }
        // temperature, then draw.
        float inv = 1f / _o.Temperature;
        float top = vals[0] * inv;
        double sum = 0;
        for (int i = 0; i < count; i++)
        {
            sum += Math.Exp(vals[i] * inv - top);
        }
        double r = _rng.NextSingle() * sum;
        double acc = 0;
        for (int i = 0; i < count; i++)
        {
            acc += Math.Exp(vals[i] * inv - top);
            if (r < acc)
            {
                return ids[i];
            }
        }
        return ids[count - 1];
    }

    private void ApplyPenalty(Span<float> logits)
    {
        if (_o.RepeatPenalty == 1f || _recentCount == 0)
        {
            return;
        }
        // Each distinct recent token is penalised once, as llama.cpp does.
        Span<int> seen = _recentCount <= 256 ? stackalloc int[_recentCount] : new int[_recentCount];
        int distinct = 0;
        for (int i = 0; i < _recentCount; i++)
        {
            int t = _recent[i];
            if ((uint)t >= (uint)logits.Length || seen[..distinct].Contains(t))
            {
                continue;
            }
            seen[distinct++] = t;
            logits[t] = logits[t] > 0 ? logits[t] / _o.RepeatPenalty : logits[t] * _o.RepeatPenalty;
        }
    }

    /// <summary>Index of the largest logit (lowest index on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        float bestValue = float.NegativeInfinity;
        for (int i = 0; i < logits.Length; i++)
        {
            if (logits[i] > bestValue)
            {
                bestValue = logits[i];
                best = i;
            }
        }
        return best;
    }

    /// <summary>Fills _ids/_vals with the k largest finite logits in descending order; returns how many.</summary>
    private int SelectTop(ReadOnlySpan<float> logits, int k)
    {
        // Insertion into a sorted prefix: O(n·log k) comparisons in practice for small k; the full sort path
        // (k = n) uses Array.Sort.
        if (k >= logits.Length)
        {
            int m = 0;
            for (int i = 0; i < logits.Length; i++)
            {
                if (float.IsFinite(logits[i]))
                {
                    _ids[m] = i;
                    _vals[m++] = -logits[i];
                }
            }
            Array.Sort(_vals, _ids, 0, m);
            for (int i = 0; i < m; i++)
            {
                _vals[i] = -_vals[i];
            }
            return m;
        }
        int count = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            float v = logits[i];
            if (!float.IsFinite(v) || (count == k && v <= _vals[k - 1]))
            {
                continue;
            }
            int j = count < k ? count++ : k - 1;
            while (j > 0 && _vals[j - 1] < v)
            {
                _vals[j] = _vals[j - 1];
                _ids[j] = _ids[j - 1];
                j--;
            }
            _vals[j] = v;
            _ids[j] = i;
        }
        return count;
    }
}
