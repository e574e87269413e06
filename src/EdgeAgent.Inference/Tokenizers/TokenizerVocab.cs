using EdgeAgent.Inference.Gguf;

namespace EdgeAgent.Inference.Tokenizers;

/// <summary>
/// A vocabulary as GGUF stores it under <c>tokenizer.*</c>: what llama.cpp's <c>convert_hf_to_gguf.py</c> writes
/// and what <see cref="Tokenizer.FromGguf"/> reads. Importers (<see cref="SentencePieceVocab"/>,
/// <see cref="HfTokenizerJson"/>) produce one; <see cref="WriteTo"/> puts it into a GGUF file.
/// Special token ids are -1 and the optional flags null when not stated (the tokenizer then applies llama.cpp's
/// defaults for the model type).
/// </summary>
public sealed record TokenizerVocab
{
    /// <summary><c>tokenizer.ggml.model</c> of a sentencepiece-style vocabulary.</summary>
    public const string SentencePieceModel = "llama";

    /// <summary><c>tokenizer.ggml.model</c> of a byte-level BPE vocabulary.</summary>
    public const string BytePairModel = "gpt2";

    /// <summary><c>tokenizer.ggml.model</c>: <see cref="SentencePieceModel"/> or <see cref="BytePairModel"/>.</summary>
    public required string Model { get; init; }

    /// <summary><c>tokenizer.ggml.pre</c>: the BPE pre-tokenizer name (<c>default</c>, <c>gpt-2</c>, <c>llama-bpe</c>,
    /// <c>qwen2</c>, <c>smollm</c>, …); <c>default</c> for sentencepiece vocabularies.</summary>
    public string? Pre { get; init; }

    /// <summary><c>tokenizer.ggml.tokens</c>, indexed by token id.</summary>
    public required string[] Tokens { get; init; }

    /// <summary><c>tokenizer.ggml.scores</c> (sentencepiece merge priorities); null when absent (all zero).</summary>
    public float[]? Scores { get; init; }

    /// <summary><c>tokenizer.ggml.token_type</c> as <see cref="TokenType"/> ids; null when absent (all normal).</summary>
    public int[]? TokenTypes { get; init; }

    /// <summary><c>tokenizer.ggml.merges</c> ("left right", by rank) for BPE vocabularies.</summary>
    public string[]? Merges { get; init; }

    public int BosId { get; init; } = -1;
    public int EosId { get; init; } = -1;
    public int EotId { get; init; } = -1;
    public int EomId { get; init; } = -1;
    public int UnkId { get; init; } = -1;
    public int SepId { get; init; } = -1;
    public int PadId { get; init; } = -1;

    /// <summary><c>tokenizer.ggml.add_bos_token</c>; null = the model type's default.</summary>
    public bool? AddBos { get; init; }

    /// <summary><c>tokenizer.ggml.add_eos_token</c>; null = the model type's default.</summary>
    public bool? AddEos { get; init; }

    /// <summary><c>tokenizer.ggml.add_space_prefix</c>; null = the model type's default.</summary>
    public bool? AddSpacePrefix { get; init; }

    /// <summary><c>tokenizer.chat_template</c> (Jinja), when known.</summary>
    public string? ChatTemplate { get; init; }

    private static readonly (string Key, Func<TokenizerVocab, int> Get)[] s_specialIds =
    [
        ("tokenizer.ggml.bos_token_id", v => v.BosId),
        ("tokenizer.ggml.eos_token_id", v => v.EosId),
        ("tokenizer.ggml.eot_token_id", v => v.EotId),
        ("tokenizer.ggml.eom_token_id", v => v.EomId),
        ("tokenizer.ggml.unknown_token_id", v => v.UnkId),
        ("tokenizer.ggml.seperator_token_id", v => v.SepId),   // sic: the GGUF key is spelled this way
        ("tokenizer.ggml.padding_token_id", v => v.PadId),
    ];

    /// <summary>Writes the vocabulary's keys with the types llama.cpp's gguf-py uses (ids as uint32, token types
    /// as int32).</summary>
    /// <exception cref="TokenizerFormatException">The vocabulary is inconsistent (see <see cref="Validate"/>).</exception>
    public void WriteTo(GgufWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        Validate();
        w.Set("tokenizer.ggml.model", Model);
        if (Pre is not null)
        {
            w.Set("tokenizer.ggml.pre", Pre);
        }
        w.Set("tokenizer.ggml.tokens", Tokens);
        if (Scores is not null)
        {
            w.Set("tokenizer.ggml.scores", Scores);
        }
        if (TokenTypes is not null)
        {
            w.Set("tokenizer.ggml.token_type", TokenTypes);
        }
        if (Merges is not null)
        {
            w.Set("tokenizer.ggml.merges", Merges);
        }
        foreach (var (key, get) in s_specialIds)
        {
            if (get(this) >= 0)
            {
                w.Set(key, (uint)get(this));
            }
        }
        if (AddBos is { } addBos)
        {
            w.Set("tokenizer.ggml.add_bos_token", addBos);
        }
        if (AddEos is { } addEos)
        {
            w.Set("tokenizer.ggml.add_eos_token", addEos);
        }
        if (AddSpacePrefix is { } addSpace)
        {
            w.Set("tokenizer.ggml.add_space_prefix", addSpace);
        }
        if (ChatTemplate is not null)
        {
            w.Set("tokenizer.chat_template", ChatTemplate);
        }
    }

    /// <summary>Reads the <c>tokenizer.*</c> keys of a GGUF file. A special id outside the vocabulary is ignored
    /// (llama.cpp warns and keeps its default).</summary>
    /// <exception cref="TokenizerFormatException">A key is missing, has the wrong type, or the arrays disagree.</exception>
    public static TokenizerVocab FromGguf(GgufMetadata md)
    {
        ArgumentNullException.ThrowIfNull(md);
        var model = md.GetString("tokenizer.ggml.model")
            ?? throw new TokenizerFormatException("GGUF has no tokenizer.ggml.model string: no vocabulary in this file");
        var tokens = ReadArray("tokenizer.ggml.tokens", md, md.GetStringArray)
            ?? throw new TokenizerFormatException("GGUF has no tokenizer.ggml.tokens: no vocabulary in this file");
        var vocab = new TokenizerVocab
        {
            Model = model,
            Pre = md.GetString("tokenizer.ggml.pre"),
            Tokens = tokens,
            Scores = ReadArray("tokenizer.ggml.scores", md, md.GetFloatArray),
            TokenTypes = ReadArray("tokenizer.ggml.token_type", md, md.GetInt32Array),
            Merges = ReadArray("tokenizer.ggml.merges", md, md.GetStringArray),
            BosId = ReadId(md, "tokenizer.ggml.bos_token_id", tokens.Length),
            EosId = ReadId(md, "tokenizer.ggml.eos_token_id", tokens.Length),
            EotId = ReadId(md, "tokenizer.ggml.eot_token_id", tokens.Length),
            EomId = ReadId(md, "tokenizer.ggml.eom_token_id", tokens.Length),
            UnkId = ReadId(md, "tokenizer.ggml.unknown_token_id", tokens.Length),
            SepId = ReadId(md, "tokenizer.ggml.seperator_token_id", tokens.Length),
            PadId = ReadId(md, "tokenizer.ggml.padding_token_id", tokens.Length),
            AddBos = md.TryGetBool("tokenizer.ggml.add_bos_token", out var addBos) ? addBos : null,
            AddEos = md.TryGetBool("tokenizer.ggml.add_eos_token", out var addEos) ? addEos : null,
            AddSpacePrefix = md.TryGetBool("tokenizer.ggml.add_space_prefix", out var addSpace) ? addSpace : null,
            ChatTemplate = md.GetString("tokenizer.chat_template"),
        };
        vocab.Validate();
        return vocab;
    }

    /// <summary>Checks that the arrays agree in length and the ids are in range.</summary>
    /// <exception cref="TokenizerFormatException">They do not.</exception>
    public void Validate()
    {
        if (Model is not (SentencePieceModel or BytePairModel))
        {
            throw new TokenizerFormatException($"unsupported tokenizer model '{Model}' (supported: '{SentencePieceModel}', '{BytePairModel}')");
        }
        if (Tokens is null || Tokens.Length == 0)
        {
            throw new TokenizerFormatException("vocabulary has no tokens");
        }
        if (Tokens.Any(t => t is null))
        {
            throw new TokenizerFormatException("vocabulary has a null token");
        }
        if (Scores is not null && Scores.Length != Tokens.Length)
        {
            throw new TokenizerFormatException($"vocabulary has {Tokens.Length} tokens but {Scores.Length} scores");
        }
        if (TokenTypes is not null && TokenTypes.Length != Tokens.Length)
        {
            throw new TokenizerFormatException($"vocabulary has {Tokens.Length} tokens but {TokenTypes.Length} token types");
        }
        if (Model == BytePairModel && Merges is null)
        {
            throw new TokenizerFormatException("BPE vocabulary has no tokenizer.ggml.merges");
        }
        if (Merges is not null && Merges.Any(m => m is null))
        {
            throw new TokenizerFormatException("vocabulary has a null merge");
        }
        foreach (var (key, get) in s_specialIds)
        {
            int id = get(this);
            if (id < -1 || id >= Tokens.Length)
            {
                throw new TokenizerFormatException($"{key} = {id} is outside the vocabulary of {Tokens.Length} tokens");
            }
        }
    }

    private static T? ReadArray<T>(string key, GgufMetadata md, Func<string, T?> get) where T : class
    {
        if (!md.Contains(key))
        {
            return null;
        }
        return get(key) ?? throw new TokenizerFormatException($"GGUF key {key} has the wrong type ({md[key]})");
    }

    private static int ReadId(GgufMetadata md, string key, int vocabSize) =>
        md.TryGetInt64(key, out var id) && id >= 0 && id < vocabSize ? (int)id : -1;
}
