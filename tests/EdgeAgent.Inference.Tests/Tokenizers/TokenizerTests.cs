using System.Text;
using EdgeAgent.Inference.Gguf;
using EdgeAgent.Inference.Tokenizers;

namespace EdgeAgent.Inference.Tests.Tokenizers;

/// <summary>Importers, GGUF round trips, streaming and hostile input; no native code involved.</summary>
public class TokenizerTests
{
    private static readonly Lazy<TokenizerVocab> s_llama2 = new(() => SentencePieceVocab.FromModelProto(TestData.Path("tokenizers", "llama2-tokenizer.model")));
    private static readonly Lazy<TokenizerVocab> s_smollm2 = new(() => HfTokenizerJson.FromFile(TestData.Path("tokenizers", "smollm2-tokenizer.json")));
    private static readonly Lazy<Tokenizer> s_llama2Tokenizer = new(() => Tokenizer.Create(s_llama2.Value));
    private static readonly Lazy<Tokenizer> s_smollm2Tokenizer = new(() => Tokenizer.Create(s_smollm2.Value));

    [Fact]
    public void Llama2ModelProtoImportsAsConvertHfToGgufDoes()
    {
        var v = s_llama2.Value;
        Assert.Equal("llama", v.Model);
        Assert.Equal("default", v.Pre);
        Assert.Equal(32000, v.Tokens.Length);
        Assert.Equal(["<unk>", "<s>", "</s>", "<0x00>"], v.Tokens[..4]);
        Assert.Equal("▁the", v.Tokens[278]);
        Assert.Equal((int)TokenType.Unknown, v.TokenTypes![0]);
        Assert.Equal((int)TokenType.Control, v.TokenTypes[1]);
        Assert.Equal((int)TokenType.Control, v.TokenTypes[2]);
        Assert.All(v.TokenTypes[3..259], t => Assert.Equal((int)TokenType.Byte, t));
        Assert.All(v.TokenTypes[259..], t => Assert.Equal((int)TokenType.Normal, t));
        Assert.Equal(-19f, v.Scores![278]);
        Assert.Equal((1, 2, 0, -1), (v.BosId, v.EosId, v.UnkId, v.PadId));
        Assert.Equal((true, false), (v.AddBos, v.AddEos));
        Assert.Null(v.Merges);
    }

    [Fact]
    public void SmolLm2TokenizerJsonImportsAsConvertHfToGgufDoes()
    {
        var v = s_smollm2.Value;
        Assert.Equal("gpt2", v.Model);
        Assert.Equal("smollm", v.Pre);
        Assert.Equal(49152, v.Tokens.Length);
        Assert.Equal(48900, v.Merges!.Length);
        Assert.Equal("Ġ t", v.Merges[0]);
        Assert.Equal(["<|endoftext|>", "<|im_start|>", "<|im_end|>"], v.Tokens[..3]);
        Assert.All(v.TokenTypes![..17], t => Assert.Equal((int)TokenType.Control, t));
        Assert.All(v.TokenTypes[17..], t => Assert.Equal((int)TokenType.Normal, t));
        Assert.Equal((1, 2, 0, 2), (v.BosId, v.EosId, v.UnkId, v.PadId));
        Assert.Equal((false, false), (v.AddBos, v.AddEos));
        Assert.Null(v.Scores);
    }

    [Fact]
    public void VocabSurvivesAGgufRoundTrip()
    {
        foreach (var v in new[] { s_llama2.Value, s_smollm2.Value })
        {
            var w = new GgufWriter();
            w.Set("general.architecture", "llama");
            v.WriteTo(w);
            using var f = GgufFile.FromBytes(w.ToArray());
            Assert.Equal(GgufValueType.UInt32, f.Metadata["tokenizer.ggml.bos_token_id"]!.Type);
            Assert.Equal(GgufValueType.Int32, f.Metadata["tokenizer.ggml.token_type"]!.ElementType);
            var back = TokenizerVocab.FromGguf(f.Metadata);
            Assert.Equal(v.Tokens, back.Tokens);
            Assert.Equal(v.Scores, back.Scores);
            Assert.Equal(v.TokenTypes, back.TokenTypes);
            Assert.Equal(v.Merges, back.Merges);
            Assert.Equal(v with { Tokens = back.Tokens, Scores = back.Scores, TokenTypes = back.TokenTypes, Merges = back.Merges }, back);
        }
    }

    [Fact]
    public void SpecialIdsAndEndOfGeneration()
    {
        var llama = s_llama2Tokenizer.Value;
        Assert.Equal((1, 2, 0, true, false), (llama.BosId, llama.EosId, llama.UnkId, llama.AddBos, llama.AddEos));
        Assert.True(llama.IsEndOfGeneration(2));
        Assert.False(llama.IsEndOfGeneration(1));
        Assert.False(llama.IsEndOfGeneration(-1));
        Assert.False(llama.IsEndOfGeneration(32000));

        var smol = s_smollm2Tokenizer.Value;
        Assert.True(smol.IsEndOfGeneration(smol.TokenId("<|im_end|>")));
        Assert.True(smol.IsEndOfGeneration(smol.TokenId("<|endoftext|>")));
        Assert.False(smol.IsEndOfGeneration(smol.TokenId("<|im_start|>")));
        Assert.False(smol.IsEndOfGeneration(smol.TokenId("Hello")));
        Assert.Equal(0, smol.EotId);   // detected by text: the lowest matching id
    }

    [Fact]
    public void TokenBytesAndText()
    {
        var llama = s_llama2Tokenizer.Value;
        Assert.Equal([10], llama.TokenBytes(llama.TokenId("<0x0A>")));
        Assert.Equal(" the"u8.ToArray(), llama.TokenBytes(278));
        Assert.Equal("▁the", llama.TokenText(278));
        Assert.Empty(llama.TokenBytes(1));
        Assert.Equal("<s>"u8.ToArray(), llama.TokenBytes(1, special: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => llama.TokenBytes(32000));

        var smol = s_smollm2Tokenizer.Value;
        Assert.Equal(" the"u8.ToArray(), smol.TokenBytes(smol.TokenId("Ġthe")));
        Assert.Equal("\n"u8.ToArray(), smol.TokenBytes(smol.TokenId("Ċ")));
        Assert.Empty(smol.TokenBytes(smol.TokenId("<|im_end|>")));
    }

    [Fact]
    public void EncodeAddsSpecialTokensAsTheVocabularySays()
    {
        var llama = s_llama2Tokenizer.Value;
        Assert.Equal([1], llama.Encode("", addSpecial: true));
        Assert.Empty(llama.Encode(""));
        Assert.Equal(1, llama.Encode("Hello", addSpecial: true)[0]);
        var smol = s_smollm2Tokenizer.Value;
        Assert.Equal(smol.Encode("Hello"), smol.Encode("Hello", addSpecial: true));
        Assert.Equal([smol.TokenId("<|im_start|>")], smol.Encode("<|im_start|>", parseSpecial: true));
        Assert.NotEqual([smol.TokenId("<|im_start|>")], smol.Encode("<|im_start|>"));
    }

    [Fact]
    public void StreamingDecoderHoldsBackSplitCharacters()
    {
        var llama = s_llama2Tokenizer.Value;
        // U+1D11E MUSICAL SYMBOL G CLEF is not in the vocabulary: four byte tokens
        var ids = llama.Encode("x𝄞y");
        var pieces = ids.Select(id => llama.TokenText(id)).ToArray();
        Assert.Contains("<0xF0>", pieces);
        var decoder = llama.CreateStreamingDecoder();
        var outputs = ids.Select(decoder.Add).ToList();
        outputs.Add(decoder.Flush());
        int first = Array.IndexOf(pieces, "<0xF0>");
        Assert.Equal("", outputs[first]);
        Assert.Equal("", outputs[first + 1]);
        Assert.Equal("", outputs[first + 2]);
        Assert.Equal("𝄞", outputs[first + 3]);
        Assert.Equal("x𝄞y", string.Concat(outputs));
        Assert.Equal(llama.Decode(ids), string.Concat(outputs));
    }

    [Fact]
    public void StreamingDecoderFlushesAnIncompleteCharacterAsReplacement()
    {
        var llama = s_llama2Tokenizer.Value;
        var decoder = llama.CreateStreamingDecoder();
        Assert.Equal("", decoder.Add(llama.TokenId("<0xE2>")));
        Assert.Equal("", decoder.Add(llama.TokenId("<0x82>")));
        Assert.Equal("\uFFFD", decoder.Flush());
        decoder.Reset();
        Assert.Equal("the", decoder.Add(278));   // first token: the space prefix is stripped
        Assert.Equal(" the", decoder.Add(278));
    }

    [Fact]
    public void TruncatedOrGarbageModelProtoIsRejectedClearly()
    {
        var data = File.ReadAllBytes(TestData.Path("tokenizers", "llama2-tokenizer.model"));
        Assert.Throws<TokenizerFormatException>(() => SentencePieceVocab.FromModelProto(data.AsSpan(0, 1000)));
        Assert.Throws<TokenizerFormatException>(() => SentencePieceVocab.FromModelProto(ReadOnlySpan<byte>.Empty));
        var rng = new Random(42);
        var garbage = new byte[4096];
        rng.NextBytes(garbage);
        Assert.Throws<TokenizerFormatException>(() => SentencePieceVocab.FromModelProto(garbage));
        // wherever the file is cut, the result is an exception of our type or a (shorter) vocabulary, never a crash
        for (int i = 0; i < 200; i++)
        {
            int cut = rng.Next(data.Length);
            try
            {
                Assert.True(SentencePieceVocab.FromModelProto(data.AsSpan(0, cut)).Tokens.Length <= 32000);
            }
            catch (TokenizerFormatException)
            {
            }
        }
        // flipped bytes likewise
        for (int i = 0; i < 200; i++)
        {
            var copy = (byte[])data.Clone();
            for (int k = 0; k < 8; k++)
            {
                copy[rng.Next(copy.Length)] = (byte)rng.Next(256);
            }
            try
            {
                _ = Tokenizer.Create(SentencePieceVocab.FromModelProto(copy));
            }
            catch (TokenizerFormatException)
            {
            }
        }
    }

    [Fact]
    public void ModelProtoFileErrorsNameTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"bad-{Guid.NewGuid():N}.model");
        try
        {
            File.WriteAllBytes(path, [0x0A, 0xFF, 0xFF, 0xFF, 0x0F]);
            var e = Assert.Throws<TokenizerFormatException>(() => SentencePieceVocab.FromModelProto(path));
            Assert.Contains(path, e.Message);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Throws<FileNotFoundException>(() => SentencePieceVocab.FromModelProto(path));
    }

    [Fact]
    public void InconsistentGgufMetadataIsRejectedClearly()
    {
        static GgufMetadata Md(Action<GgufWriter> set)
        {
            var w = new GgufWriter();
            w.Set("tokenizer.ggml.model", "llama").Set("tokenizer.ggml.tokens", new[] { "<unk>", "<s>", "</s>", "a" });
            set(w);
            using var f = GgufFile.FromBytes(w.ToArray());
            return f.Metadata;
        }
        Assert.NotNull(Tokenizer.FromGguf(Md(_ => { })));
        var e = Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromGguf(Md(w => w.Set("tokenizer.ggml.scores", new[] { 0f, 0f }))));
        Assert.Contains("4 tokens but 2 scores", e.Message);
        Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromGguf(Md(w => w.Set("tokenizer.ggml.token_type", new[] { 1, 1, 1 }))));
        Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromGguf(Md(w => w.Set("tokenizer.ggml.scores", "not an array"))));
        Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromGguf(Md(w => w.Set("tokenizer.ggml.model", "gpt2"))));   // no merges
        Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromGguf(Md(w => w.Set("tokenizer.ggml.model", "t5"))));
        Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromGguf(Md(w => w.Set("tokenizer.ggml.tokens", new[] { "a", "a" }))));
        Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromGguf(Md(w => w.Set("tokenizer.ggml.tokens", new[] { 1, 2 }))));
        Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromGguf(Md(w => w.Set("tokenizer.ggml.model", "gpt2")
            .Set("tokenizer.ggml.merges", Array.Empty<string>()).Set("tokenizer.ggml.pre", "no-such-pre"))));
        Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromGguf(new GgufMetadata()));
        // an out-of-range special id is ignored as llama.cpp does (the default applies)
        Assert.Equal(1, Tokenizer.FromGguf(Md(w => w.Set("tokenizer.ggml.bos_token_id", 99u))).BosId);
    }

    [Fact]
    public void TokenizerJsonVariantsImport()
    {
        const string json = """
        {
          "added_tokens": [
            {"id": 5, "content": "<|end|>", "special": false},
            {"id": 6, "content": "<tool>", "special": false},
            {"id": 7, "content": "<eos>", "special": true}
          ],
          "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
          "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<eos>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]},
          "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3}, "merges": [["a", "b"], "Ġ a"]}
        }
        """;
        var v = HfTokenizerJson.Parse(json);
        Assert.Equal("gpt-2", v.Pre);
        Assert.Equal(["a", "b", "ab", "Ġ", "[PAD4]", "<|end|>", "<tool>", "<eos>"], v.Tokens);
        Assert.Equal([1, 1, 1, 1, 5, 3, 4, 3], v.TokenTypes!);
        Assert.Equal(["a b", "Ġ a"], v.Merges!);
        Assert.Equal((7, true), (v.BosId, v.AddBos));
        var t = Tokenizer.Create(v);
        Assert.Equal([7, 2, 6, 2], t.Encode("ab<tool>ab", addSpecial: true));   // user-defined tokens split even without parseSpecial

        Assert.Throws<TokenizerFormatException>(() => HfTokenizerJson.Parse("{ not json"));
        Assert.Throws<TokenizerFormatException>(() => HfTokenizerJson.Parse("""{"model": {"type": "Unigram", "vocab": []}}"""));
        Assert.Throws<TokenizerFormatException>(() => HfTokenizerJson.Parse("""{"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []}}"""));
        Assert.Equal("qwen2", HfTokenizerJson.Parse(json, pre: "qwen2").Pre);
    }

    [Fact]
    public void LoneSurrogatesEncodeAsReplacementCharacters()
    {
        var smol = s_smollm2Tokenizer.Value;
        Assert.Equal(smol.Encode("a\uFFFDb"), smol.Encode("a\ud800b"));
        Assert.Equal("a\uFFFDb", smol.Decode(smol.Encode("a\udc00b")));
    }

    [Fact]
    public void ConcurrentEncodingAgrees()
    {
        var smol = Tokenizer.Create(s_smollm2.Value);
        var text = string.Concat(Enumerable.Range(0, 2000).Select(i => $"word{i % 97} {i} "));
        var expected = Tokenizer.Create(s_smollm2.Value).Encode(text);
        Parallel.For(0, 8, _ => Assert.Equal(expected, smol.Encode(text)));
    }

    [Fact]
    public void Utf8DecodeOfByteTokens()
    {
        var llama = s_llama2Tokenizer.Value;
        var ids = llama.Encode("€ 𝄞");
        Assert.Equal("€ 𝄞", llama.Decode(ids));
        Assert.Equal(Encoding.UTF8.GetBytes("€ 𝄞"), llama.DecodeToUtf8(ids));
    }
}
