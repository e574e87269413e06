using System.Text;
using EdgeAgent.Inference.Gguf;

namespace EdgeAgent.Inference.Tokenizers;

/// <summary>
/// A tokenizer built from GGUF vocabulary metadata that encodes and decodes exactly as llama.cpp's
/// <c>llama_vocab</c> does (<c>src/llama-vocab.cpp</c>): <c>tokenizer.ggml.model = "llama"</c> gives the
/// sentencepiece-style <see cref="SentencePieceTokenizer"/>, <c>"gpt2"</c> the byte-level
/// <see cref="BpeTokenizer"/>. Instances are immutable and safe to use from several threads.
/// </summary>
/// <remarks>
/// Token ids are ints; -1 means "no such token". Text is handled as UTF-16 where llama.cpp handles UTF-8 bytes;
/// the two agree for valid text, and a lone surrogate is treated as U+FFFD (what its UTF-8 encoding becomes).
/// </remarks>
public abstract partial class Tokenizer
{
    private readonly string[] _texts;
    private readonly float[] _scores;
    private readonly TokenAttributes[] _attrs;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _idsBySpan;
    private readonly int[] _partitionTokens;
    private readonly bool[] _eog;
    private readonly byte[][] _pieces;

    private protected Tokenizer(TokenizerVocab vocab, TokenizerDefaults defaults)
    {
        vocab.Validate();
        int n = vocab.Tokens.Length;
        _texts = new string[n];
        _scores = (float[]?)vocab.Scores?.Clone() ?? new float[n];   // the vocabulary record's arrays stay the caller's
        _attrs = new TokenAttributes[n];
        var ids = new Dictionary<string, int>(n, StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            // llama.cpp renames empty tokens so that every token has a distinct, non-empty text.
            var text = vocab.Tokens[i].Length == 0 ? $"[EMPTY_{i}]" : vocab.Tokens[i];
            if (!ids.TryAdd(text, i))
            {
                throw new TokenizerFormatException($"duplicate token in vocabulary: '{text}' has ids {ids[text]} and {i}");
            }
            _texts[i] = text;
            _attrs[i] = vocab.TokenTypes is null ? TokenAttributes.Normal : AttributesOf(vocab.TokenTypes[i]);
        }
        _idsBySpan = ids.GetAlternateLookup<ReadOnlySpan<char>>();

        Model = vocab.Model;
        Pre = vocab.Pre;
        ChatTemplate = vocab.ChatTemplate;
        BosId = Pick(vocab.BosId, defaults.BosId, n);
        EosId = Pick(vocab.EosId, defaults.EosId, n);
        UnkId = Pick(vocab.UnkId, defaults.UnkId, n);
        PadId = vocab.PadId;
        SepId = vocab.SepId;
        EotId = vocab.EotId;
        EomId = vocab.EomId;
        AddBos = vocab.AddBos ?? defaults.AddBos;
        AddEos = vocab.AddEos ?? defaults.AddEos;
        AddSpacePrefix = vocab.AddSpacePrefix ?? defaults.AddSpacePrefix;
        CleanSpaces = defaults.CleanSpaces;
        if (AddBos && BosId < 0)
        {
            throw new TokenizerFormatException("tokenizer.ggml.add_bos_token is true, but tokenizer.ggml.bos_token_id is not set");
        }
        if (AddEos && EosId < 0)
        {
            throw new TokenizerFormatException("tokenizer.ggml.add_eos_token is true, but tokenizer.ggml.eos_token_id is not set");
        }

        _eog = new bool[n];
        ApplySpecialTokenFixups();

        // llama_vocab::impl::load: "build special tokens cache", longest text (in UTF-8 bytes) first.
        _partitionTokens = Enumerable.Range(0, n)
            .Where(i => (_attrs[i] & (TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown)) != 0)
            .OrderByDescending(i => Encoding.UTF8.GetByteCount(_texts[i]))
            .ThenBy(i => i)
            .ToArray();
        _pieces = new byte[n][];
    }

    /// <summary><c>tokenizer.ggml.model</c>: "llama" or "gpt2".</summary>
    public string Model { get; }

    /// <summary><c>tokenizer.ggml.pre</c> as stored (null when absent).</summary>
    public string? Pre { get; }

    /// <summary><c>tokenizer.chat_template</c>, when the file has one.</summary>
    public string? ChatTemplate { get; }

    public int VocabSize => _texts.Length;

    /// <summary>Beginning-of-sequence token; -1 when the vocabulary has none. Sentencepiece vocabularies default
    /// to llama.cpp's 1 when the key is absent.</summary>
    public int BosId { get; }

    /// <summary>End-of-sequence token; -1 when none (sentencepiece default 2).</summary>
    public int EosId { get; }

    /// <summary>End-of-turn token: <c>tokenizer.ggml.eot_token_id</c>, else detected by text as llama.cpp does
    /// (<c>&lt;|eot_id|&gt;</c>, <c>&lt;|im_end|&gt;</c>, <c>&lt;|end|&gt;</c>, …); -1 when none.</summary>
    public int EotId { get; private set; }

    /// <summary>End-of-message token (<c>&lt;|eom_id|&gt;</c>); -1 when none.</summary>
    public int EomId { get; private set; }

    /// <summary>Unknown token; -1 when none (sentencepiece default 0).</summary>
    public int UnkId { get; }

    public int PadId { get; }

    public int SepId { get; }

    /// <summary>Whether <see cref="Encode(string, bool, bool)"/> with <c>addSpecial</c> prepends BOS.</summary>
    public bool AddBos { get; }

    /// <summary>Whether <see cref="Encode(string, bool, bool)"/> with <c>addSpecial</c> appends EOS.</summary>
    public bool AddEos { get; }

    /// <summary>Sentencepiece's dummy prefix: a space is prepended to text at the start and after special tokens,
    /// and <see cref="Decode(ReadOnlySpan{int}, bool, bool)"/> strips it from the first token.</summary>
    public bool AddSpacePrefix { get; }

    /// <summary>Token scores (sentencepiece merge priorities), indexed by id.</summary>
    public IReadOnlyList<float> Scores => _scores;

    /// <summary>llama.cpp's <c>clean_spaces</c>: decoding removes the space before <c>. , ! ?</c> and some
    /// contractions (BPE pre-tokenizers that ask for it).</summary>
    private protected bool CleanSpaces { get; }

    /// <summary>Builds the tokenizer that <paramref name="metadata"/>'s <c>tokenizer.*</c> keys describe.</summary>
    /// <exception cref="TokenizerFormatException">The vocabulary is missing, inconsistent or not supported.</exception>
    public static Tokenizer FromGguf(GgufMetadata metadata) => Create(TokenizerVocab.FromGguf(metadata));

    /// <summary>Builds the tokenizer for a vocabulary (e.g. one an importer produced).</summary>
    /// <exception cref="TokenizerFormatException">The vocabulary is inconsistent or not supported.</exception>
    public static Tokenizer Create(TokenizerVocab vocab)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        return vocab.Model switch
        {
            TokenizerVocab.SentencePieceModel => new SentencePieceTokenizer(vocab),
            TokenizerVocab.BytePairModel => new BpeTokenizer(vocab),
            _ => throw new TokenizerFormatException($"unsupported tokenizer model '{vocab.Model}'"),
        };
    }

    /// <summary>The vocabulary text of a token (e.g. <c>▁the</c>, <c>Ġthe</c>, <c>&lt;s&gt;</c>, <c>&lt;0x0A&gt;</c>).</summary>
    public string TokenText(int id) => _texts[CheckId(id)];

    /// <summary>The token with exactly this vocabulary text, or -1.</summary>
    public int TokenId(ReadOnlySpan<char> text) => _idsBySpan.TryGetValue(text, out var id) ? id : -1;

    /// <summary>The token's type after llama.cpp's load-time fix-ups (e.g. an EOG-looking token becomes control).</summary>
    public TokenType GetTokenType(int id)
    {
        var a = _attrs[CheckId(id)];
        return (a & TokenAttributes.Control) != 0 ? TokenType.Control
            : (a & TokenAttributes.Unknown) != 0 ? TokenType.Unknown
            : (a & TokenAttributes.UserDefined) != 0 ? TokenType.UserDefined
            : (a & TokenAttributes.Byte) != 0 ? TokenType.Byte
            : (a & TokenAttributes.Unused) != 0 ? TokenType.Unused
            : (a & TokenAttributes.Normal) != 0 ? TokenType.Normal
            : TokenType.Undefined;
    }

    /// <summary>Whether generation should stop at this token: EOS, EOT, EOM and the control tokens llama.cpp
    /// marks as end-of-generation by their text (<c>&lt;|im_end|&gt;</c>, <c>&lt;|eot_id|&gt;</c>,
    /// <c>&lt;|end|&gt;</c>, <c>&lt;|endoftext|&gt;</c>, …). False for ids outside the vocabulary.</summary>
    public bool IsEndOfGeneration(int id) => (uint)id < (uint)_eog.Length && _eog[id];

    /// <summary>The bytes a token contributes to decoded text (llama.cpp's <c>token_to_piece</c>, no space
    /// stripping). Control and unknown tokens give nothing unless <paramref name="special"/>, which renders their
    /// text; byte tokens give their byte, so a piece need not be valid UTF-8 on its own.</summary>
    public byte[] TokenBytes(int id, bool special = false) => Piece(CheckId(id), special).ToArray();

    /// <summary>Encodes text to token ids as <c>llama_tokenize</c> does.</summary>
    /// <param name="addSpecial">Add BOS/EOS as the vocabulary asks (<see cref="AddBos"/>, <see cref="AddEos"/>).</param>
    /// <param name="parseSpecial">Recognise control and unknown token texts (e.g. <c>&lt;|im_start|&gt;</c>) in
    /// the text; without it they are tokenized as plain text. User-defined tokens are always recognised.</param>
    public int[] Encode(string text, bool addSpecial = false, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new List<int>(text.Length / 3 + 4);
        Encode(text.AsSpan(), output, addSpecial, parseSpecial);
        return output.ToArray();
    }

    /// <summary>Encodes text, appending the ids to <paramref name="output"/>; see <see cref="Encode(string, bool, bool)"/>.</summary>
    public void Encode(ReadOnlySpan<char> text, List<int> output, bool addSpecial = false, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        string? sanitized = null;
        if (text.IndexOfAnyInRange('\uD800', '\uDFFF') >= 0)
        {
            sanitized = ReplaceLoneSurrogates(text);
            text = sanitized;
        }
        if (addSpecial && AddBos)
        {
            output.Add(BosId);
        }
        bool afterSpecial = true;
        foreach (var f in Partition(text, parseSpecial))
        {
            if (f.Token >= 0)
            {
                output.Add(f.Token);
                afterSpecial = true;
            }
            else
            {
                EncodeText(text.Slice(f.Start, f.Length), afterSpecial, output);
                afterSpecial = false;
            }
        }
        if (addSpecial && AddEos)
        {
            output.Add(EosId);
        }
    }

    /// <summary>Tokenizes one run of plain text (no special tokens in it).</summary>
    /// <param name="afterSpecial">The run starts the text or follows a special token (sentencepiece prefixes a
    /// space there).</param>
    private protected abstract void EncodeText(ReadOnlySpan<char> text, bool afterSpecial, List<int> output);

    /// <summary>The piece of a normal token (sentencepiece: ▁ as space; BPE: the byte-level alphabet decoded).</summary>
    private protected abstract byte[] NormalPiece(string text);

    /// <summary>Decodes ids to text as <c>llama_detokenize(remove_special: false, unparse_special: false)</c>
    /// does: control tokens render as nothing, byte tokens are joined into UTF-8, the leading space of the first
    /// token is removed when the vocabulary adds a space prefix. Invalid UTF-8 becomes U+FFFD.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return Decode(ids as int[] ?? ids.ToArray());
    }

    /// <summary>Decodes ids to text as <c>llama_detokenize</c> does.</summary>
    /// <param name="removeSpecial">Drop a leading BOS and trailing EOS when the vocabulary adds them.</param>
    /// <param name="unparseSpecial">Render control tokens as their text.</param>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public string Decode(ReadOnlySpan<int> ids, bool removeSpecial = false, bool unparseSpecial = false) =>
        Encoding.UTF8.GetString(DecodeToUtf8(ids, removeSpecial, unparseSpecial));

    /// <summary>Like <see cref="Decode(ReadOnlySpan{int}, bool, bool)"/> but returns the raw bytes.</summary>
    public byte[] DecodeToUtf8(ReadOnlySpan<int> ids, bool removeSpecial = false, bool unparseSpecial = false)
    {
        bool removeSpace = AddSpacePrefix;
        if (removeSpecial && AddBos && ids.Length > 0 && ids[0] == BosId)
        {
            removeSpace = false;   // sic: llama.cpp keeps the space when it drops the BOS
            ids = ids[1..];
        }
        if (removeSpecial && AddEos && ids.Length > 0 && ids[^1] == EosId)
        {
            ids = ids[..^1];
        }
        var buffer = new List<byte>(ids.Length * 4);
        foreach (int id in ids)
        {
            var piece = Piece(CheckId(id), unparseSpecial);
            if (removeSpace && piece.Length > 0 && piece[0] == (byte)' ')
            {
                piece = piece[1..];
            }
            removeSpace = false;
            buffer.AddRange(piece);
        }
        var text = buffer.ToArray();
        return CleanSpaces ? CleanUpSpaces(text) : text;
    }

    /// <summary>Creates a decoder for streaming generated ids out as text.</summary>
    public StreamingDecoder CreateStreamingDecoder() => new(this);

    /// <summary>llama.cpp's <c>token_to_piece</c> for one token, cached for the non-special rendering.</summary>
    internal ReadOnlySpan<byte> Piece(int id, bool special)
    {
        var a = _attrs[id];
        if ((a & (TokenAttributes.Unknown | TokenAttributes.Control)) != 0)
        {
            return special ? Encoding.UTF8.GetBytes(_texts[id]) : [];
        }
        return _pieces[id] ??= ComputePiece(id, a);
    }

    private byte[] ComputePiece(int id, TokenAttributes a)
    {
        if ((a & TokenAttributes.UserDefined) != 0)
        {
            return Encoding.UTF8.GetBytes(_texts[id]);
        }
        if ((a & TokenAttributes.Normal) != 0)
        {
            return NormalPiece(_texts[id]);
        }
        if ((a & TokenAttributes.Byte) != 0)
        {
            return [ByteOfToken(_texts[id])];
        }
        return [];   // unused / undefined tokens render as nothing
    }

    /// <summary>The byte of a <c>&lt;0xXX&gt;</c> token (llama.cpp: <c>strtol(text.substr(3, 2), 16)</c>, 0 if unparsable).</summary>
    private static byte ByteOfToken(string text) =>
        text.Length >= 5 && byte.TryParse(text.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out var b) ? b : (byte)0;

    private int CheckId(int id)
    {
        if ((uint)id >= (uint)_texts.Length)
        {
            ThrowBadId(id);
        }
        return id;
    }

    private void ThrowBadId(int id) =>
        throw new ArgumentOutOfRangeException(nameof(id), id, $"token id outside the vocabulary of {_texts.Length} tokens");

    private protected bool TryGetId(ReadOnlySpan<char> text, out int id) => _idsBySpan.TryGetValue(text, out id);

    private protected float ScoreOf(int id) => _scores[id];

    private readonly record struct Fragment(int Start, int Length, int Token);

    /// <summary>llama.cpp's <c>tokenizer_st_partition</c>: split the text on special-token texts, longest token
    /// first. Control and unknown tokens take part only with <paramref name="parseSpecial"/>.</summary>
    private List<Fragment> Partition(ReadOnlySpan<char> text, bool parseSpecial)
    {
        var fragments = new List<Fragment>();
        if (text.IsEmpty)
        {
            return fragments;
        }
        fragments.Add(new Fragment(0, text.Length, -1));
        var next = new List<Fragment>();
        foreach (int special in _partitionTokens)
        {
            if (!parseSpecial && (_attrs[special] & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0)
            {
                continue;
            }
            var needle = _texts[special].AsSpan();
            next.Clear();
            foreach (var f in fragments)
            {
                if (f.Token >= 0)
                {
                    next.Add(f);
                    continue;
                }
                int start = f.Start, end = f.Start + f.Length;
                while (start < end)
                {
                    int at = text[start..end].IndexOf(needle, StringComparison.Ordinal);
                    if (at < 0)
                    {
                        break;
                    }
                    if (at > 0)
                    {
                        next.Add(new Fragment(start, at, -1));
                    }
                    next.Add(new Fragment(0, 0, special));
                    start += at + needle.Length;
                }
                if (start < end)
                {
                    next.Add(new Fragment(start, end - start, -1));
                }
            }
            (fragments, next) = (next, fragments);
        }
        return fragments;
    }

    /// <summary>The clean-up passes of <c>llama_vocab::impl::detokenize</c> (when <c>clean_spaces</c>).</summary>
    private static byte[] CleanUpSpaces(byte[] text)
    {
        // first pass: " ?", " !", " .", " ," lose the space
        int total = text.Length == 0 ? 0 : 1;
        for (int i = 1; i < text.Length; i++)
        {
            byte x = text[i];
            if (text[i - 1] == ' ' && x is (byte)'?' or (byte)'!' or (byte)'.' or (byte)',')
            {
                total--;
            }
            text[total++] = x;
        }
        // second pass: a single apostrophe between spaces loses both spaces
        int total2 = total;
        total = total2 == 0 ? 0 : 1;
        for (int i = 1; i < total2; i++)
        {
            byte x = text[i];
            if (x == '\'' && i + 1 < total2 && text[i - 1] == ' ' && text[i + 1] == ' ')
            {
                total--;
                text[++i] = 0;
            }
            text[total++] = x;
        }
        // third pass: " 's", " 'm", " 're", " 've" lose the space
        int total3 = total;
        total = total3 == 0 ? 0 : 1;
        for (int i = 1; i < total3; i++)
        {
            byte x = text[i];
            if (text[i - 1] == ' ' && x == '\'' && i + 1 < total3)
            {
                byte x1 = text[i + 1];
                if (x1 is (byte)'s' or (byte)'m')
                {
                    total--;
                }
                else if (i + 2 < total3 && ((x1 == 'r' && text[i + 2] == 'e') || (x1 == 'v' && text[i + 2] == 'e')))
                {
                    total--;
                }
            }
            text[total++] = x;
        }
        return text.AsSpan(0, total).ToArray();
    }

    private static string ReplaceLoneSurrogates(ReadOnlySpan<char> text)
    {
        var chars = text.ToArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(chars[i]))
            {
                chars[i] = '\uFFFD';
            }
        }
        return new string(chars);
    }

    private static int Pick(int stated, int fallback, int vocabSize) =>
        stated >= 0 ? stated : fallback >= 0 && fallback < vocabSize ? fallback : -1;

    private static TokenAttributes AttributesOf(int type) => (TokenType)type switch
    {
        TokenType.Unknown => TokenAttributes.Unknown,
        TokenType.Unused => TokenAttributes.Unused,
        TokenType.Normal => TokenAttributes.Normal,
        TokenType.Control => TokenAttributes.Control,
        TokenType.UserDefined => TokenAttributes.UserDefined,
        TokenType.Byte => TokenAttributes.Byte,
        _ => TokenAttributes.Undefined,
    };
}

/// <summary>llama.cpp's per-model-type defaults, applied where the GGUF file is silent.</summary>
internal readonly record struct TokenizerDefaults(
    int BosId, int EosId, int UnkId, bool AddBos, bool AddEos, bool AddSpacePrefix, bool CleanSpaces);
