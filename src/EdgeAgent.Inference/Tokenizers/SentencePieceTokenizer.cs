using System.Buffers;
using System.Text;

namespace EdgeAgent.Inference.Tokenizers;

/// <summary>
/// Sentencepiece-style tokenizer (<c>tokenizer.ggml.model = "llama"</c>), a port of llama.cpp's
/// <c>llm_tokenizer_spm_session</c>: spaces become U+2581, a space is prefixed at the start of the text and after
/// special tokens, then adjacent symbols are merged greedily by the score of the token they form (highest first,
/// leftmost on ties); symbols that are not tokens fall back to <c>&lt;0xXX&gt;</c> byte tokens.
/// </summary>
public sealed class SentencePieceTokenizer : Tokenizer
{
    /// <summary>U+2581 LOWER ONE EIGHTH BLOCK, sentencepiece's visible space.</summary>
    public const char SpaceMarker = '\u2581';

    private readonly int[] _byteTokens = new int[256];

    internal SentencePieceTokenizer(TokenizerVocab vocab)
        : base(vocab, new TokenizerDefaults(BosId: 1, EosId: 2, UnkId: 0, AddBos: true, AddEos: false, AddSpacePrefix: true, CleanSpaces: false))
    {
        // llama_vocab::byte_to_token: "<0xXX>", else the byte itself as a one-byte token.
        Span<char> hex = stackalloc char[6];
        for (int b = 0; b < 256; b++)
        {
            $"<0x{b:X2}>".AsSpan().CopyTo(hex);
            int id = TokenId(hex);
            if (id < 0 && b < 0x80)
            {
                id = TokenId([(char)b]);
            }
            _byteTokens[b] = id;
        }
    }

    private struct Symbol
    {
        public int Prev;
        public int Next;
        public int Start;   // in chars of the escaped text
        public int Length;  // in chars; 0 once merged into the left neighbour
    }

    private readonly record struct Bigram(int Left, int Right, int Length);

    /// <summary>The queue order of llama.cpp's <c>llm_bigram_spm::comparator</c> (highest score first, then the
    /// leftmost) as one ascending key: the score's bits mapped to an order-preserving integer and negated in the
    /// high half, the left index in the low half.</summary>
    private static ulong Priority(float score, int left)
    {
        int bits = BitConverter.SingleToInt32Bits(score == 0 ? 0f : score);   // -0 ties with +0, as in float compare
        int ordered = bits >= 0 ? bits : bits ^ int.MaxValue;   // ascending like the float
        return ((ulong)((long)int.MaxValue - ordered) << 32) | (uint)left;
    }

    private protected override void EncodeText(ReadOnlySpan<char> text, bool afterSpecial, List<int> output)
    {
        int prefix = AddSpacePrefix && afterSpecial ? 1 : 0;
        int n = text.Length + prefix;
        char[] buffer = ArrayPool<char>.Shared.Rent(n);
        Symbol[] symbols = ArrayPool<Symbol>.Shared.Rent(n);
        try
        {
            if (prefix == 1)
            {
                buffer[0] = SpaceMarker;
            }
            text.CopyTo(buffer.AsSpan(prefix));
            buffer.AsSpan(0, n).Replace(' ', SpaceMarker);
            Tokenize(buffer.AsSpan(0, n), symbols, output);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
            ArrayPool<Symbol>.Shared.Return(symbols);
        }
    }

    private void Tokenize(ReadOnlySpan<char> text, Symbol[] symbols, List<int> output)
    {
        // one symbol per code point (llama.cpp: per UTF-8 character)
        int count = 0;
        for (int offs = 0; offs < text.Length;)
        {
            int len = char.IsHighSurrogate(text[offs]) && offs + 1 < text.Length && char.IsLowSurrogate(text[offs + 1]) ? 2 : 1;
            symbols[count] = new Symbol { Prev = count - 1, Next = offs + len == text.Length ? -1 : count + 1, Start = offs, Length = len };
            offs += len;
            count++;
        }
        if (count == 0)
        {
            return;
        }

        var queue = new PriorityQueue<Bigram, ulong>(count);
        for (int i = 1; i < count; i++)
        {
            TryAddBigram(text, symbols, queue, i - 1, i);
        }
        while (queue.TryDequeue(out var bigram, out _))
        {
            ref var left = ref symbols[bigram.Left];
            ref var right = ref symbols[bigram.Right];
            // skip bigrams whose symbols have changed since they were queued
            if (left.Length == 0 || right.Length == 0 || left.Length + right.Length != bigram.Length)
            {
                continue;
            }
            left.Length += right.Length;
            right.Length = 0;
            left.Next = right.Next;
            if (right.Next >= 0)
            {
                symbols[right.Next].Prev = bigram.Left;
            }
            TryAddBigram(text, symbols, queue, left.Prev, bigram.Left);
            TryAddBigram(text, symbols, queue, bigram.Left, left.Next);
        }

        for (int i = 0; i != -1; i = symbols[i].Next)
        {
            var piece = text.Slice(symbols[i].Start, symbols[i].Length);
            if (TryGetId(piece, out int id))
            {
                output.Add(id);
            }
            else
            {
                AddBytes(piece, output);
            }
        }
    }

    private void TryAddBigram(ReadOnlySpan<char> text, Symbol[] symbols, PriorityQueue<Bigram, ulong> queue, int left, int right)
    {
        if (left == -1 || right == -1)
        {
            return;
        }
        int length = symbols[left].Length + symbols[right].Length;
        if (!TryGetId(text.Slice(symbols[left].Start, length), out int id))
        {
            return;
        }
        queue.Enqueue(new Bigram(left, right, length), Priority(ScoreOf(id), left));
    }

    /// <summary>A symbol that is not a token is written as its UTF-8 bytes. llama.cpp aborts when a byte has no
    /// token; we write the unknown token instead (or nothing if there is none).</summary>
    private void AddBytes(ReadOnlySpan<char> piece, List<int> output)
    {
        Span<byte> utf8 = stackalloc byte[8];
        int n = Encoding.UTF8.GetBytes(piece, utf8);
        foreach (byte b in utf8[..n])
        {
            int id = _byteTokens[b];
            if (id >= 0)
            {
                output.Add(id);
            }
            else if (UnkId >= 0)
            {
                output.Add(UnkId);
            }
        }
    }

    private protected override byte[] NormalPiece(string text) => Encoding.UTF8.GetBytes(text.Replace(SpaceMarker, ' '));
}
