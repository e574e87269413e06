using System.Text.Json;

namespace EdgeAgent.Inference.Tokenizers;

/// <summary>
/// Imports a Hugging Face <c>tokenizer.json</c> with a byte-level BPE model the way llama.cpp's
/// <c>convert_hf_to_gguf.py</c> (<c>get_vocab_base</c> / <c>_set_vocab_gpt2</c> + <c>gguf.SpecialVocab</c>) does:
/// tokens in id order (holes become <c>[PAD{id}]</c>, unused), added tokens as control when special (or when they
/// look special, <c>&lt;|…|&gt;</c>) and user-defined otherwise, merges as <c>"left right"</c>.
/// </summary>
/// <remarks>
/// convert_hf_to_gguf names the pre-tokenizer by hashing the tokenization of a probe text with the real Hugging Face
/// tokenizer; we recognise the pre-tokenizer's structure instead: ByteLevel alone (<c>gpt-2</c>),
/// Digits(individual) + ByteLevel (<c>smollm</c>), and the llama3 / qwen2 Split regexes (<c>llama-bpe</c>,
/// <c>qwen2</c>). Special tokens and <c>add_bos</c>/<c>add_eos</c>/<c>chat_template</c> come from a
/// <c>tokenizer_config.json</c> beside the file when there is one, else from a TemplateProcessing post-processor, else
/// from the ChatML / <c>&lt;|endoftext|&gt;</c> conventions.
/// </remarks>
public static class HfTokenizerJson
{
    /// <summary>Files larger than this are refused before reading.</summary>
    public const long MaxFileBytes = 512L << 20;

    private const int MaxVocabSize = 1 << 24;

    private const string Llama3Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Qwen2Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Reads <paramref name="path"/>, and <c>tokenizer_config.json</c> from the same folder when present
    /// (or <paramref name="configPath"/>).</summary>
    /// <param name="pre">Overrides the pre-tokenizer name instead of recognising it.</param>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="TokenizerFormatException">The file is malformed or not a byte-level BPE tokenizer.</exception>
    public static TokenizerVocab FromFile(string path, string? configPath = null, string? pre = null)
    {
        var json = ReadLimited(path);
        configPath ??= Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", "tokenizer_config.json");
        var config = File.Exists(configPath) ? ReadLimited(configPath) : null;
        try
        {
            return Parse(json, config, pre);
        }
        catch (TokenizerFormatException e)
        {
            throw new TokenizerFormatException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Parses the text of a <c>tokenizer.json</c> (and optionally of its <c>tokenizer_config.json</c>).</summary>
    /// <exception cref="TokenizerFormatException">The JSON is malformed or not a byte-level BPE tokenizer.</exception>
    public static TokenizerVocab Parse(string tokenizerJson, string? tokenizerConfigJson = null, string? pre = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJson);
        try
        {
            using var doc = JsonDocument.Parse(tokenizerJson);
            using var config = tokenizerConfigJson is null ? null : JsonDocument.Parse(tokenizerConfigJson);
            return Build(doc.RootElement, config?.RootElement, pre);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            throw new TokenizerFormatException($"malformed tokenizer.json: {e.Message}", e);
        }
    }

    private static TokenizerVocab Build(JsonElement root, JsonElement? config, string? pre)
    {
        var model = root.GetProperty("model");
        var modelType = model.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (modelType != "BPE")
        {
            throw new TokenizerFormatException($"tokenizer.json model type '{modelType}' is not supported (only byte-level BPE)");
        }
        if (model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True)
        {
            throw new TokenizerFormatException("tokenizer.json is a sentencepiece-style BPE (byte_fallback); import its tokenizer.model instead");
        }

        var byId = new Dictionary<int, string>();
        foreach (var entry in model.GetProperty("vocab").EnumerateObject())
        {
            AddToken(byId, entry.Value.GetInt32(), entry.Name);
        }
        var added = new Dictionary<string, (int Id, bool Special)>(StringComparer.Ordinal);
        if (root.TryGetProperty("added_tokens", out var addedTokens) && addedTokens.ValueKind == JsonValueKind.Array)
        {
            foreach (var a in addedTokens.EnumerateArray())
            {
                int id = a.GetProperty("id").GetInt32();
                var content = a.GetProperty("content").GetString() ?? throw new TokenizerFormatException("added token without content");
                bool special = a.TryGetProperty("special", out var sp) && sp.ValueKind == JsonValueKind.True;
                added[content] = (id, special);
                AddToken(byId, id, content, replace: true);
            }
        }

        int vocabSize = byId.Keys.Max() + 1;
        var tokens = new string[vocabSize];
        var types = new int[vocabSize];
        for (int i = 0; i < vocabSize; i++)
        {
            if (!byId.TryGetValue(i, out var token))
            {
                tokens[i] = $"[PAD{i}]";
                types[i] = (int)TokenType.Unused;
            }
            else if (added.TryGetValue(token, out var a) && a.Id == i)
            {
                bool control = a.Special || LooksSpecial(token);
                // llama.cpp expects user-defined tokens pre-normalized: sentencepiece spaces become real spaces
                tokens[i] = control ? token : token.Replace('\u2581', ' ');
                types[i] = (int)(control ? TokenType.Control : TokenType.UserDefined);
            }
            else
            {
                tokens[i] = token;
                types[i] = (int)TokenType.Normal;
            }
        }

        var merges = new List<string>();
        if (model.TryGetProperty("merges", out var ms))
        {
            foreach (var m in ms.EnumerateArray())
            {
                merges.Add(m.ValueKind switch
                {
                    JsonValueKind.String => m.GetString()!,
                    JsonValueKind.Array when m.GetArrayLength() == 2 => $"{m[0].GetString()} {m[1].GetString()}",
                    _ => throw new TokenizerFormatException($"merge {merges.Count} is neither \"a b\" nor [a, b]"),
                });
            }
        }

        int IdOf(string? content) => content is not null && added.TryGetValue(content, out var a) ? a.Id
            : content is not null ? Array.IndexOf(tokens, content) : -1;
        var specials = ReadSpecials(root, config, IdOf, added.ContainsKey);
        return new TokenizerVocab
        {
            Model = TokenizerVocab.BytePairModel,
            Pre = pre ?? RecognisePre(root),
            Tokens = tokens,
            TokenTypes = types,
            Merges = merges.ToArray(),
            BosId = specials.Bos,
            EosId = specials.Eos,
            UnkId = specials.Unk,
            PadId = specials.Pad,
            AddBos = specials.AddBos,
            AddEos = specials.AddEos,
            ChatTemplate = specials.ChatTemplate,
        };
    }

    private static void AddToken(Dictionary<int, string> byId, int id, string token, bool replace = false)
    {
        if (id < 0 || id >= MaxVocabSize)
        {
            throw new TokenizerFormatException($"token id {id} of '{token}' is out of range");
        }
        if (!replace && byId.ContainsKey(id))
        {
            throw new TokenizerFormatException($"token id {id} is used by both '{byId[id]}' and '{token}'");
        }
        byId[id] = token;
    }

    /// <summary>convert_hf_to_gguf's <c>does_token_look_special</c>.</summary>
    private static bool LooksSpecial(string token) =>
        token is "<pad>" or "<mask>" or "<2mass>" or "[@BOS@]"
        || (token.StartsWith("<|", StringComparison.Ordinal) && token.EndsWith("|>", StringComparison.Ordinal))
        || (token.StartsWith("<｜", StringComparison.Ordinal) && token.EndsWith("｜>", StringComparison.Ordinal))
        || (token.StartsWith("<unused", StringComparison.Ordinal) && token.EndsWith('>'));

    private static string RecognisePre(JsonElement root)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var p) || p.ValueKind != JsonValueKind.Object)
        {
            throw new TokenizerFormatException("tokenizer.json has no pre_tokenizer; pass the pre-tokenizer name explicitly");
        }
        var steps = TypeOf(p) == "Sequence" ? p.GetProperty("pretokenizers").EnumerateArray().ToList() : [p];
        var kinds = steps.Select(TypeOf).ToList();
        if (kinds is ["ByteLevel"] && UsesRegex(steps[0]))
        {
            return "gpt-2";
        }
        if (kinds is ["Digits", "ByteLevel"] && steps[0].TryGetProperty("individual_digits", out var ind)
            && ind.ValueKind == JsonValueKind.True && UsesRegex(steps[1]))
        {
            return "smollm";
        }
        if (kinds is ["Split", "ByteLevel"] && !UsesRegex(steps[1])
            && steps[0].TryGetProperty("pattern", out var pattern) && pattern.TryGetProperty("Regex", out var regex))
        {
            switch (regex.GetString())
            {
                case Llama3Regex: return "llama-bpe";
                case Qwen2Regex: return "qwen2";
            }
        }
        throw new TokenizerFormatException($"unrecognised pre-tokenizer ({string.Join(" + ", kinds)}); pass the pre-tokenizer name explicitly");
    }

    private static string? TypeOf(JsonElement e) => e.TryGetProperty("type", out var t) ? t.GetString() : null;

    private static bool UsesRegex(JsonElement byteLevel) =>
        !byteLevel.TryGetProperty("use_regex", out var u) || u.ValueKind != JsonValueKind.False;

    private sealed record Specials(int Bos, int Eos, int Unk, int Pad, bool? AddBos, bool? AddEos, string? ChatTemplate);

    private static Specials ReadSpecials(JsonElement root, JsonElement? config, Func<string?, int> idOf, Func<string, bool> isAdded)
    {
        if (config is { } c)
        {
            static string? Content(JsonElement cfg, string key) =>
                !cfg.TryGetProperty(key, out var v) ? null
                : v.ValueKind == JsonValueKind.String ? v.GetString()
                : v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var content) ? content.GetString()
                : null;
            static bool? Flag(JsonElement cfg, string key) =>
                cfg.TryGetProperty(key, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
            string? template = null;
            if (c.TryGetProperty("chat_template", out var ct))
            {
                template = ct.ValueKind == JsonValueKind.String ? ct.GetString()
                    : ct.ValueKind == JsonValueKind.Array
                        ? ct.EnumerateArray().Where(x => x.TryGetProperty("name", out var n) && n.GetString() == "default")
                            .Select(x => x.GetProperty("template").GetString()).FirstOrDefault()
                        : null;
            }
            return new Specials(idOf(Content(c, "bos_token")), idOf(Content(c, "eos_token")), idOf(Content(c, "unk_token")),
                idOf(Content(c, "pad_token")), Flag(c, "add_bos_token") ?? false, Flag(c, "add_eos_token") ?? false, template);
        }

        // A TemplateProcessing post-processor names the tokens it adds around a single sequence.
        if (root.TryGetProperty("post_processor", out var pp) && pp.ValueKind == JsonValueKind.Object
            && TypeOf(pp) == "TemplateProcessing" && pp.TryGetProperty("single", out var single))
        {
            int bos = -1, eos = -1;
            bool seenSequence = false;
            foreach (var piece in single.EnumerateArray())
            {
                if (piece.TryGetProperty("Sequence", out _))
                {
                    seenSequence = true;
                }
                else if (piece.TryGetProperty("SpecialToken", out var st))
                {
                    int id = idOf(st.GetProperty("id").GetString());
                    if (seenSequence)
                    {
                        eos = id;
                    }
                    else
                    {
                        bos = id;
                    }
                }
            }
            return new Specials(bos, eos, -1, -1, bos >= 0, eos >= 0, null);
        }

        // Conventions: ChatML vocabularies end turns with <|im_end|> (SmolLM2-Instruct, Qwen2-Instruct configs);
        // GPT-2 style vocabularies use <|endoftext|> for everything.
        int endOfText = isAdded("<|endoftext|>") ? idOf("<|endoftext|>") : -1;
        if (isAdded("<|im_start|>") && isAdded("<|im_end|>"))
        {
            int imEnd = idOf("<|im_end|>");
            return new Specials(idOf("<|im_start|>"), imEnd, endOfText, imEnd, false, false, null);
        }
        return new Specials(endOfText, endOfText, endOfText, -1, false, false, null);
    }

    private static string ReadLimited(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"tokenizer file not found: {path}", path);
        }
        if (info.Length > MaxFileBytes)
        {
            throw new TokenizerFormatException($"{path}: {info.Length} bytes is too large for a tokenizer file");
        }
        return File.ReadAllText(path);
    }
}
