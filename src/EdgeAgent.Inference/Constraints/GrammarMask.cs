using System.Diagnostics;
using System.Text;
using EdgeAgent.Inference.Sampling;
using EdgeAgent.Inference.Tokenizers;

namespace EdgeAgent.Inference.Constraints;

/// <summary>
/// Constrained decoding: at each step only tokens whose bytes keep the output a prefix of the grammar are
/// allowed, and end-of-generation tokens only once the document is complete. The allowed set is one pruned walk of
/// the vocabulary's <see cref="TokenTrie"/> from the current parse positions, so a token that spans several
/// grammar terminals (<c>"},{"</c>) or ends inside a UTF-8 character is judged by its bytes like any other.
/// One mask per generation; not thread-safe.
/// </summary>
public sealed class GrammarMask : ITokenMask
{
    private readonly JsonRecognizer _grammar;
    private readonly TokenTrie _trie;
    private readonly ulong[] _allowed;
    private readonly List<List<ParseStack>> _levels = [];
    private List<ParseStack> _positions;
    private bool _computed;
    private bool _ended;
    private readonly List<byte> _bytes = [];

    public GrammarMask(JsonRecognizer grammar, TokenTrie trie)
    {
        _grammar = grammar;
        _trie = trie;
        _allowed = new ulong[(trie.VocabSize + 63) / 64];
        _positions = [.. grammar.Start];
    }

    /// <summary>A mask for <paramref name="schema"/> over <paramref name="tokenizer"/>'s vocabulary.</summary>
    public static GrammarMask ForSchema(SchemaNode schema, Tokenizer tokenizer, GrammarOptions? options = null) =>
        new(new JsonRecognizer(schema, options), TokenTrie.For(tokenizer));

    /// <summary>
    /// A mask in the same state (same parse positions and output) that then goes its own way; parse stacks are
    /// immutable, so this copies two lists. Its mask counters start at zero.
    /// </summary>
    public GrammarMask Clone()
    {
        var copy = new GrammarMask(_grammar, _trie) { _positions = [.. _positions], _ended = _ended };
        copy._bytes.AddRange(_bytes);
        return copy;
    }

    /// <summary>The document is complete (an end-of-generation token is allowed now).</summary>
    public bool IsComplete => !_ended && JsonRecognizer.CanEnd(_positions);

    /// <summary>Complete and nothing more can be added: generation should stop.</summary>
    public bool IsFinished => _ended || (IsComplete && !AcceptsAnyByte());

    /// <summary>The bytes accepted so far.</summary>
    public byte[] Output => [.. _bytes];

    /// <summary>How many masks were computed, and the time spent computing them.</summary>
    public int MaskCount { get; private set; }

    public TimeSpan MaskTime { get; private set; }

    /// <summary>Trie nodes visited by the last mask (a measure of its cost).</summary>
    public int LastVisited { get; private set; }

    public void Apply(Span<float> logits)
    {
        Compute();
        int n = Math.Min(logits.Length, _trie.VocabSize);
        for (int i = 0; i < n; i++)
        {
            if ((_allowed[i >> 6] & (1UL << i)) == 0)
            {
                logits[i] = float.NegativeInfinity;
            }
        }
        for (int i = n; i < logits.Length; i++)
        {
            logits[i] = float.NegativeInfinity;
        }
    }

    /// <summary>Whether <paramref name="token"/> may come next.</summary>
    public bool IsAllowed(int token)
    {
        Compute();
        return (uint)token < (uint)_trie.VocabSize && (_allowed[token >> 6] & (1UL << token)) != 0;
    }

    /// <summary>All tokens that may come next, ascending.</summary>
    public List<int> AllowedTokens()
    {
        Compute();
        var list = new List<int>();
        for (int i = 0; i < _trie.VocabSize; i++)
        {
            if ((_allowed[i >> 6] & (1UL << i)) != 0)
            {
                list.Add(i);
            }
        }
        return list;
    }

    /// <exception cref="InvalidOperationException">The token is not allowed here.</exception>
    public void Accept(int token)
    {
        if (_ended)
        {
            throw new InvalidOperationException("the document is already complete");
        }
        if (_trie.EndOfGeneration.Contains(token))
        {
            if (!JsonRecognizer.CanEnd(_positions))
            {
                throw new InvalidOperationException("end of generation before the document is complete");
            }
            _ended = true;
            return;
        }
        if ((uint)token >= (uint)_trie.VocabSize)
        {
            throw new InvalidOperationException($"token {token} is outside the vocabulary");
        }
        var bytes = _trie.TokenBytes[token];
        var next = bytes.Length == 0 ? [] : _grammar.Advance(_positions, bytes);
        if (next.Count == 0)
        {
            throw new InvalidOperationException($"token {token} is not allowed by the grammar here");
        }
        _positions = next;
        _bytes.AddRange(bytes);
        _computed = false;
    }

    private void Compute()
    {
        if (_computed)
        {
            return;
        }
        long start = Stopwatch.GetTimestamp();
        Array.Clear(_allowed);
        LastVisited = 0;
        if (!_ended)
        {
            Visit(0, _positions, 0);
            if (JsonRecognizer.CanEnd(_positions))
            {
                foreach (int t in _trie.EndOfGeneration)
                {
                    _allowed[t >> 6] |= 1UL << t;
                }
            }
        }
        _computed = true;
        MaskCount++;
        MaskTime += Stopwatch.GetElapsedTime(start);
    }

    private void Visit(int node, List<ParseStack> states, int depth)
    {
        if (_levels.Count == depth)
        {
            _levels.Add([]);
        }
        var next = _levels[depth];
        var t = _trie;
        for (int e = t.EdgeStart[node]; e < t.EdgeStart[node + 1]; e++)
        {
            next.Clear();
            _grammar.Feed(states, t.EdgeByte[e], next);
            LastVisited++;
            if (next.Count == 0)
            {
                continue;
            }
            int child = t.EdgeChild[e];
            for (int k = t.TokStart[child]; k < t.TokStart[child + 1]; k++)
            {
                int id = t.TokenIds[k];
                _allowed[id >> 6] |= 1UL << id;
            }
            if (t.EdgeStart[child + 1] > t.EdgeStart[child])
            {
                Visit(child, next, depth + 1);
                next = _levels[depth];
            }
        }
    }

    private bool AcceptsAnyByte()
    {
        var output = new List<ParseStack>();
        for (int b = 0; b < 256; b++)
        {
            _grammar.Feed(_positions, (byte)b, output);
            if (output.Count > 0)
            {
                return true;
            }
        }
        return false;
    }
}
