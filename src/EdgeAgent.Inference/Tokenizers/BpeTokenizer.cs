using System.Buffers;
using System.Collections.Concurrent;
using System.Text;

namespace EdgeAgent.Inference.Tokenizers;

/// <summary>
/// Byte-level BPE tokenizer (<c>tokenizer.ggml.model = "gpt2"</c>), a port of llama.cpp's
/// <c>llm_tokenizer_bpe_session</c>: the text is split into pre-tokens by the regexes of
/// <c>tokenizer.ggml.pre</c>, each pre-token is spelled in GPT-2's byte alphabet and its adjacent symbols are merged
/// by merge rank (lowest first, leftmost on ties). Results are cached per pre-token.
/// </summary>
public sealed class BpeTokenizer : Tokenizer
{
    private const int CacheCapacity = 1 << 17;

    private readonly BpePreTokenizerKind _kind;
    private readonly bool _ignoreMerges;

    // Every string that appears in a merge (both halves and the result) gets a symbol id; a merge is then a lookup
    // of (left id, right id) -> (rank, result id). Two symbols with the same text have the same id, so comparing ids
    // is llama.cpp's comparison of texts.
    private readonly Dictionary<long, (int Rank, int Result)> _merges = [];
    private readonly int[] _symbolToken;       // symbol id -> token id with that text, or -1
    private readonly int[] _byteSymbol = new int[256];   // symbol id of a byte's one-character spelling, or -1
    private readonly int[] _byteToken = new int[256];    // token id of a byte's one-character spelling, or -1

    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;
    private int _cacheCount;

    internal BpeTokenizer(TokenizerVocab vocab) : base(vocab, DefaultsFor(vocab.Pre))
    {
        (_kind, _, _ignoreMerges, _) = ParsePre(vocab.Pre);
        var symbols = new Dictionary<string, int>(StringComparer.Ordinal);
        var texts = new List<string>();
        int Intern(string s)
        {
            if (!symbols.TryGetValue(s, out int id))
            {
                id = texts.Count;
                symbols.Add(s, id);
                texts.Add(s);
            }
            return id;
        }
        var merges = vocab.Merges!;
        for (int rank = 0; rank < merges.Length; rank++)
        {
            // llama.cpp splits at the first space after the first byte; a merge without one can never match.
            var merge = merges[rank];
            int space = merge.Length > 1 ? merge.IndexOf(' ', 1) : -1;
            if (space < 0)
            {
                continue;
            }
            string left = merge[..space], right = merge[(space + 1)..];
            long key = Key(Intern(left), Intern(right));
            _merges.TryAdd(key, (rank, Intern(left + right)));   // the first rank of a repeated merge wins
        }
        _symbolToken = texts.Select(t => TokenId(t)).ToArray();
        for (int b = 0; b < 256; b++)
        {
            var s = ByteLevel.ToChar((byte)b).ToString();
            _byteSymbol[b] = symbols.GetValueOrDefault(s, -1);
            _byteToken[b] = TokenId(s);
        }
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    private static TokenizerDefaults DefaultsFor(string? pre)
    {
        var (_, cleanSpaces, _, addBos) = ParsePre(pre);
        // llama.cpp defaults BOS and EOS of a BPE vocabulary to id 11 (a GPT-2 leftover); we say "none" instead.
        return new TokenizerDefaults(BosId: -1, EosId: -1, UnkId: -1, AddBos: addBos, AddEos: false, AddSpacePrefix: false, CleanSpaces: cleanSpaces);
    }

    /// <summary>llama.cpp's <c>tokenizer.ggml.pre</c> table (<c>llama_vocab::impl::load</c>) for the supported
    /// regex families.</summary>
    /// <exception cref="TokenizerFormatException">The name is not one of them.</exception>
    internal static (BpePreTokenizerKind Kind, bool CleanSpaces, bool IgnoreMerges, bool AddBos) ParsePre(string? pre) => pre switch
    {
        null or "" or "default" => (BpePreTokenizerKind.Default, true, false, false),
        "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "falcon-h1" or "pixtral" or "midm-2.0" or "lfm2" or "jina-v5-nano"
            => (BpePreTokenizerKind.Llama3, true, true, true),
        "dbrx" or "smaug-bpe" => (BpePreTokenizerKind.Llama3, true, false, false),
        "gpt-2" or "phi-2" or "jina-es" or "jina-de" or "gigachat" or "jina-v2-es" or "jina-v2-de" or "a.x-4.0" or "mellum"
            or "modern-bert" or "mpt" or "olmo" or "jais" or "exaone4"
            => (BpePreTokenizerKind.Gpt2, true, false, false),
        "trillion" or "granite-docling" => (BpePreTokenizerKind.Gpt2, false, false, false),
        "qwen2" or "deepseek-r1-qwen" or "kormo" or "f2llmv2" or "hunyuan" or "solar-open" => (BpePreTokenizerKind.Qwen2, false, false, false),
        "stablelm2" or "megrez" => (BpePreTokenizerKind.Qwen2, true, false, false),
        "smollm" or "command-r" => (BpePreTokenizerKind.Smollm, false, false, false),
        "starcoder" or "refact" or "codeshell" or "exaone" or "minerva-7b" or "mellum2" => (BpePreTokenizerKind.Smollm, true, false, false),
        _ => throw new TokenizerFormatException($"unsupported BPE pre-tokenizer type '{pre}' (tokenizer.ggml.pre)"),
    };

    private protected override void EncodeText(ReadOnlySpan<char> text, bool afterSpecial, List<int> output)
    {
        int[] cpts = ArrayPool<int>.Shared.Rent(text.Length);
        try
        {
            int n = 0;
            foreach (var rune in text.EnumerateRunes())
            {
                cpts[n++] = rune.Value;
            }
            int charPos = 0, cptPos = 0;
            foreach (int length in BpePreTokenizer.Split(cpts.AsSpan(0, n), _kind))
            {
                int chars = 0;
                for (int k = cptPos; k < cptPos + length; k++)
                {
                    chars += cpts[k] > 0xFFFF ? 2 : 1;
                }
                EncodeWord(text.Slice(charPos, chars), output);
                charPos += chars;
                cptPos += length;
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(cpts);
        }
    }

    private void EncodeWord(ReadOnlySpan<char> word, List<int> output)
    {
        if (_cacheBySpan.TryGetValue(word, out var cached))
        {
            output.AddRange(cached);
            return;
        }
        var ids = MergeWord(word);
        if (Interlocked.Increment(ref _cacheCount) > CacheCapacity)
        {
            // bounded: hostile input of endless distinct words cannot grow the cache without limit
            _cache.Clear();
            Interlocked.Exchange(ref _cacheCount, 0);
        }
        _cacheBySpan.TryAdd(word, ids);
        output.AddRange(ids);
    }

    private struct Symbol
    {
        public int Prev;
        public int Next;
        public int Id;      // symbol id of the text, -1 if no merge mentions it
        public int Start;   // in bytes of the word
        public int Length;  // in bytes; 0 once merged into the left neighbour
    }

    private readonly record struct Bigram(int Left, int Right, int LeftId, int RightId, int Result);

    private int[] MergeWord(ReadOnlySpan<char> word)
    {
        int count = Encoding.UTF8.GetByteCount(word);
        byte[] bytes = ArrayPool<byte>.Shared.Rent(count);
        Symbol[] symbols = ArrayPool<Symbol>.Shared.Rent(count);
        try
        {
            Encoding.UTF8.GetBytes(word, bytes);
            if (_ignoreMerges && WholeWordToken(bytes.AsSpan(0, count)) is var whole and >= 0)
            {
                return [whole];
            }
            for (int i = 0; i < count; i++)
            {
                symbols[i] = new Symbol { Prev = i - 1, Next = i + 1 == count ? -1 : i + 1, Id = _byteSymbol[bytes[i]], Start = i, Length = 1 };
            }
            var queue = new PriorityQueue<Bigram, (int Rank, int Left)>();
            for (int i = 1; i < count; i++)
            {
                AddBigram(symbols, queue, i - 1, i);
            }
            while (queue.TryDequeue(out var bigram, out _))
            {
                ref var left = ref symbols[bigram.Left];
                ref var right = ref symbols[bigram.Right];
                if (left.Length == 0 || right.Length == 0 || left.Id != bigram.LeftId || right.Id != bigram.RightId)
                {
                    continue;   // outdated
                }
                left.Id = bigram.Result;
                left.Length += right.Length;
                right.Length = 0;
                left.Next = right.Next;
                if (right.Next >= 0)
                {
                    symbols[right.Next].Prev = bigram.Left;
                }
                AddBigram(symbols, queue, left.Prev, bigram.Left);
                AddBigram(symbols, queue, bigram.Left, left.Next);
            }

            var ids = new List<int>(count);
            for (int i = count == 0 ? -1 : 0; i != -1; i = symbols[i].Next)
            {
                ref var s = ref symbols[i];
                int token = s.Length == 1 ? _byteToken[bytes[s.Start]] : s.Id >= 0 ? _symbolToken[s.Id] : -1;
                if (token >= 0)
                {
                    ids.Add(token);
                    continue;
                }
                // llama.cpp: a symbol that is no token is looked up byte by byte of its UTF-8 spelling, which
                // only finds single-byte (ASCII) characters.
                for (int b = s.Start; b < s.Start + s.Length && s.Length > 1; b++)
                {
                    if (ByteLevel.ToChar(bytes[b]) < 0x80 && _byteToken[bytes[b]] >= 0)
                    {
                        ids.Add(_byteToken[bytes[b]]);
                    }
                }
            }
            return ids.ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
            ArrayPool<Symbol>.Shared.Return(symbols);
        }
    }

    private int WholeWordToken(ReadOnlySpan<byte> bytes)
    {
        char[] spelled = ArrayPool<char>.Shared.Rent(bytes.Length);
        try
        {
            for (int i = 0; i < bytes.Length; i++)
            {
                spelled[i] = ByteLevel.ToChar(bytes[i]);
            }
            return TryGetId(spelled.AsSpan(0, bytes.Length), out int id) ? id : -1;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(spelled);
        }
    }

    private void AddBigram(Symbol[] symbols, PriorityQueue<Bigram, (int, int)> queue, int left, int right)
    {
        if (left == -1 || right == -1)
        {
            return;
        }
        int l = symbols[left].Id, r = symbols[right].Id;
        if (l < 0 || r < 0 || !_merges.TryGetValue(Key(l, r), out var merge))
        {
            return;
        }
        queue.Enqueue(new Bigram(left, right, l, r, merge.Result), (merge.Rank, left));
    }

    /// <summary>llama.cpp's <c>llama_decode_text</c>: each character of the token is mapped back to its byte; one
    /// outside the byte alphabet is written as <c>[UNK_BYTE_0x…]</c> as llama.cpp does.</summary>
    private protected override byte[] NormalPiece(string text)
    {
        var bytes = new List<byte>(text.Length);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            int b = ByteLevel.ToByte(rune.Value);
            if (b >= 0)
            {
                bytes.Add((byte)b);
                continue;
            }
            int n = rune.EncodeToUtf8(utf8);
            var sb = new StringBuilder("[UNK_BYTE_0x");
            foreach (byte u in utf8[..n])
            {
                sb.Append(u.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
            sb.Append(text).Append(']');
            bytes.AddRange(Encoding.UTF8.GetBytes(sb.ToString()));
        }
        return bytes.ToArray();
    }
}
