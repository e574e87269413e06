using System.Runtime.CompilerServices;
using EdgeAgent.Inference.Tokenizers;

namespace EdgeAgent.Inference.Constraints;

/// <summary>
/// The vocabulary as a byte trie: each token's UTF-8 bytes (what it decodes to) are a path from the root, so a
/// mask is one walk that feeds each byte once for all tokens sharing a prefix, and prunes a subtree as soon as the
/// grammar rejects its prefix. Tokens that decode to no bytes (control, unused) are not in the trie. Built once
/// per vocabulary and shared (immutable).
/// </summary>
public sealed class TokenTrie
{
    private static readonly ConditionalWeakTable<Tokenizer, TokenTrie> Cache = new();

    // Node n's children are edges [EdgeStart[n], EdgeStart[n+1]); tokens ending at n are TokenIds[TokStart[n]..TokStart[n+1]).
    internal readonly int[] EdgeStart;
    internal readonly byte[] EdgeByte;
    internal readonly int[] EdgeChild;
    internal readonly int[] TokStart;
    internal readonly int[] TokenIds;

    /// <summary>Builds the trie of <paramref name="tokenBytes"/> (index = token id).</summary>
    public TokenTrie(IReadOnlyList<byte[]> tokenBytes, IEnumerable<int> endOfGeneration)
    {
        VocabSize = tokenBytes.Count;
        EndOfGeneration = endOfGeneration.Where(t => (uint)t < (uint)VocabSize).Distinct().Order().ToArray();
        // Sort token ids by bytes; a trie in DFS order then falls out of one pass over the sorted list.
        var order = Enumerable.Range(0, VocabSize).Where(i => tokenBytes[i].Length > 0).ToArray();
        Array.Sort(order, (a, b) =>
        {
            int c = tokenBytes[a].AsSpan().SequenceCompareTo(tokenBytes[b]);
            return c != 0 ? c : a.CompareTo(b);
        });
        var children = new List<List<(byte B, int Child)>> { new() };
        var tokens = new List<List<int>> { new() };
        var path = new List<int> { 0 };   // path[d] = node at depth d for the previous token
        byte[] prev = [];
        foreach (int id in order)
        {
            var bytes = tokenBytes[id];
            int common = bytes.AsSpan().CommonPrefixLength(prev);
            int node = path[common];
            path.RemoveRange(common + 1, path.Count - common - 1);
            for (int d = common; d < bytes.Length; d++)
            {
                int child = children.Count;
                children.Add([]);
                tokens.Add([]);
                children[node].Add((bytes[d], child));
                node = child;
                path.Add(node);
            }
            tokens[node].Add(id);
            prev = bytes;
            MaxTokenBytes = Math.Max(MaxTokenBytes, bytes.Length);
        }
        NodeCount = children.Count;
        EdgeStart = new int[NodeCount + 1];
        TokStart = new int[NodeCount + 1];
        EdgeByte = new byte[NodeCount - 1];
        EdgeChild = new int[NodeCount - 1];
        TokenIds = new int[order.Length];
        int e = 0, t = 0;
        for (int n = 0; n < NodeCount; n++)
        {
            EdgeStart[n] = e;
            TokStart[n] = t;
            foreach (var (b, c) in children[n])
            {
                EdgeByte[e] = b;
                EdgeChild[e++] = c;
            }
            foreach (int id in tokens[n])
            {
                TokenIds[t++] = id;
            }
        }
        EdgeStart[NodeCount] = e;
        TokStart[NodeCount] = t;
        TokenBytes = tokenBytes;
    }

    /// <summary>The trie of a tokenizer's vocabulary (cached per tokenizer).</summary>
    public static TokenTrie For(Tokenizer tokenizer) => Cache.GetValue(tokenizer, tk =>
    {
        var bytes = new byte[tk.VocabSize][];
        var eog = new List<int>();
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = tk.TokenBytes(i);
            if (tk.IsEndOfGeneration(i))
            {
                eog.Add(i);
            }
        }
        return new TokenTrie(bytes, eog);
    });

    public int VocabSize { get; }

    public int NodeCount { get; }

    public int MaxTokenBytes { get; }

    /// <summary>End-of-generation token ids: allowed exactly when the document is complete.</summary>
    public IReadOnlyList<int> EndOfGeneration { get; }

    /// <summary>Each token's bytes, by id.</summary>
    public IReadOnlyList<byte[]> TokenBytes { get; }

    /// <summary>Adds to <paramref name="into"/> every token whose bytes are a (non-empty) prefix of
    /// <paramref name="text"/>: the tokens that can start writing it.</summary>
    public void AddPrefixTokens(ReadOnlySpan<byte> text, List<int> into)
    {
        int node = 0;
        foreach (byte b in text)
        {
            int next = -1;
            for (int e = EdgeStart[node]; e < EdgeStart[node + 1]; e++)
            {
                if (EdgeByte[e] == b)
                {
                    next = EdgeChild[e];
                    break;
                }
            }
            if (next < 0)
            {
                return;
            }
            node = next;
            for (int t = TokStart[node]; t < TokStart[node + 1]; t++)
            {
                into.Add(TokenIds[t]);
            }
        }
    }
}
