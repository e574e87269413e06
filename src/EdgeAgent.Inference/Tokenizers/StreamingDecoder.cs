using System.Text;

namespace EdgeAgent.Inference.Tokenizers;

/// <summary>
/// Turns generated token ids into text as they arrive, emitting only complete UTF-8: a character split across byte
/// tokens (e.g. <c>&lt;0xE2&gt;&lt;0x82&gt;&lt;0xAC&gt;</c> for €) comes out when its last byte does. Pieces are
/// rendered as <see cref="Tokenizer.Decode(ReadOnlySpan{int}, bool, bool)"/> renders them (control tokens as nothing,
/// the space prefix stripped from the first token), without the cross-token space clean-up of BPE vocabularies,
/// as llama.cpp's own streaming does. Not thread-safe: one decoder per generation.
/// </summary>
public sealed class StreamingDecoder
{
    private readonly Tokenizer _tokenizer;
    private readonly Decoder _utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private char[] _chars = new char[64];
    private bool _first = true;

    public StreamingDecoder(Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
    }

    /// <summary>Adds one token and returns the text it completes (possibly empty).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is outside the vocabulary.</exception>
    public string Add(int id)
    {
        if ((uint)id >= (uint)_tokenizer.VocabSize)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id outside the vocabulary of {_tokenizer.VocabSize} tokens");
        }
        var piece = _tokenizer.Piece(id, special: false);
        if (_first && _tokenizer.AddSpacePrefix && piece.Length > 0 && piece[0] == (byte)' ')
        {
            piece = piece[1..];
        }
        _first = false;
        return Convert(piece, flush: false);
    }

    /// <summary>Ends the stream: bytes of an incomplete character come out as U+FFFD.</summary>
    public string Flush() => Convert([], flush: true);

    /// <summary>Forgets pending bytes and starts a new stream.</summary>
    public void Reset()
    {
        _utf8.Reset();
        _first = true;
    }

    private string Convert(ReadOnlySpan<byte> bytes, bool flush)
    {
        int needed = _utf8.GetCharCount(bytes, flush: false) + 4;
        if (_chars.Length < needed)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }
        int n = _utf8.GetChars(bytes, _chars, flush);
        return n == 0 ? string.Empty : new string(_chars, 0, n);
    }
}
