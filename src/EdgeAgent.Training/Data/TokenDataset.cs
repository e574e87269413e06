using EdgeAgent.Training.Model;

namespace EdgeAgent.Training.Data;

/// <summary>
/// A tokenized corpus cut into training sequences with the perplexity convention of docs/cli.md: every sequence is
/// BOS followed by S−1 corpus tokens, and position i predicts corpus token i (so what the model learns is exactly
/// what <c>perplexity --ctx S</c> scores).
/// </summary>
public sealed class TokenDataset
{
    private readonly int[] _tokens;

    private readonly int[]? _starts;

    public TokenDataset(int[] tokens, int bos)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        _tokens = tokens;
        Bos = bos;
    }

    /// <summary>A corpus of documents: every training sequence starts at a document start (BOS + the document, running
    /// on into the next one when it is shorter than a sequence), as a model reading one document from BOS sees it.</summary>
    private readonly bool[]? _scored;

    /// <param name="documents">The documents' tokens.</param>
    /// <param name="bos">BOS id.</param>
    /// <param name="scored">Optional, per document and token: whether the token is a training target (e.g. only the
    /// answers of a chat); unscored tokens are still read, but not predicted.</param>
    public TokenDataset(IReadOnlyList<int[]> documents, int bos, IReadOnlyList<bool[]>? scored = null)
    {
        ArgumentNullException.ThrowIfNull(documents);
        _tokens = documents.SelectMany(d => d).ToArray();
        if (scored is not null)
        {
            _scored = scored.SelectMany(d => d).ToArray();
            if (_scored.Length != _tokens.Length)
            {
                throw new ArgumentException("the scored mask does not match the documents");
            }
        }
        var starts = new List<int>();
        int at = 0;
        foreach (var d in documents)
        {
            if (d.Length > 0)
            {
                starts.Add(at);
            }
            at += d.Length;
        }
        _starts = starts.ToArray();
        Bos = bos;
    }

    public int Bos { get; }
    public int Count => _tokens.Length;

    /// <summary>A 64-bit FNV-1a hash of the tokens and which of them are scored: tells two corpora apart.</summary>
    public ulong Fingerprint()
    {
        ulong h = 14695981039346656037;
        for (int i = 0; i < _tokens.Length; i++)
        {
            h = (h ^ (uint)_tokens[i]) * 1099511628211;
            if (_scored is not null)
            {
                h = (h ^ (_scored[i] ? 1u : 0u)) * 1099511628211;
            }
        }
        return h;
    }
    public ReadOnlySpan<int> Tokens => _tokens;

    /// <summary>Fills <paramref name="batch"/> random sequences: inputs BOS + tokens[s, s+S−1), targets tokens[s, s+S).</summary>
    public void SampleBatch(Rng rng, int batch, int seqLen, Span<int> inputs, Span<int> targets)
    {
        int maxStart = _tokens.Length - seqLen;
        if (maxStart < 0)
        {
            throw new ArgumentException($"the corpus has {_tokens.Length} tokens, fewer than one sequence of {seqLen}");
        }
        for (int b = 0; b < batch; b++)
        {
            int s = _starts is null ? rng.NextInt(maxStart + 1) : Math.Min(_starts[rng.NextInt(_starts.Length)], maxStart);
            var inp = inputs.Slice(b * seqLen, seqLen);
            inp[0] = Bos;
            _tokens.AsSpan(s, seqLen - 1).CopyTo(inp[1..]);
            var tgt = targets.Slice(b * seqLen, seqLen);
            _tokens.AsSpan(s, seqLen).CopyTo(tgt);
            if (_scored is not null)
            {
                for (int i = 0; i < seqLen; i++)
                {
                    tgt[i] = _scored[s + i] ? tgt[i] : -1;
                }
            }
        }
    }

    /// <summary>Number of non-overlapping evaluation windows of S−1 tokens (a short tail is dropped, as in perplexity).</summary>
    public int EvalWindows(int seqLen) => _tokens.Length / (seqLen - 1);

    /// <summary>Fills rows with evaluation windows [first, first+batch): BOS + window, the last position unscored;
    /// rows past the last window are padding with every target ignored.</summary>
    public void EvalBatch(int first, int batch, int seqLen, Span<int> inputs, Span<int> targets)
    {
        int window = seqLen - 1, windows = EvalWindows(seqLen);
        for (int b = 0; b < batch; b++)
        {
            var inp = inputs.Slice(b * seqLen, seqLen);
            var tgt = targets.Slice(b * seqLen, seqLen);
            int w = first + b;
            if (w >= windows)
            {
                inp.Fill(Bos);
                tgt.Fill(-1);
                continue;
            }
            inp[0] = Bos;
            _tokens.AsSpan(w * window, window).CopyTo(inp[1..]);
            _tokens.AsSpan(w * window, window).CopyTo(tgt);
            tgt[window] = -1;
        }
    }
}
