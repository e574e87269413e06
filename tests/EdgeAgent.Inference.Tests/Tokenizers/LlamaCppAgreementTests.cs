using System.Diagnostics;
using System.Text;
using EdgeAgent.Inference.Tokenizers;
using Xunit.Abstractions;

namespace EdgeAgent.Inference.Tests.Tokenizers;

/// <summary>Our tokenizers against llama.cpp itself, loading the same GGUF file, id for id and byte for byte.</summary>
public sealed class LlamaCppAgreementTests(VocabFixture vocabs, ITestOutputHelper output) : IClassFixture<VocabFixture>
{
    /// <summary>Hand-written text that pokes at every corner of the pre-tokenizers and of sentencepiece.</summary>
    public static readonly string[] Samples =
    [
        "", " ", "  ", "   ", "\n", "\n\n\n", "\t", " \n ", "a", " a", "a ", "  two leading", "trailing  ",
        "Hello world", "Hello, world! How are you? I'm fine... (really) [yes] {no} \"quoted\" 'single' — dash – en",
        "\ttab\tseparated\t", "multiple    spaces   here", "line1\nline2\r\nline3\n\n\nline4\r\rline5", " \t \n\t x",
        "don't I'LL WE'VE they're she'd you'M It'S 's 're 've don''t ' s", "ſ long s, K kelvin'S he'ſ O'K",
        "日本語のテキストです。", "中文字符测试，标点！", "한국어 텍스트", "café naïve résumé Ångström ﬁ",
        "Ελληνικά κείμενα", "Русский текст", "مرحبا بالعالم", "עברית", "हिन्दी भाषा", "ไทย",
        "👍 😀😃 👨‍👩‍👧‍👦 👋🏽 🏳️‍🌈 ❤️ 🇫🇷🇯🇵", "emoji😀inside words😃x",
        "1234567 3.14159 1,000,000 2024-01-01 0x1F 12ab34 007", "½ ² ٣٤٥ ①② Ⅻ 𝟏𝟐𝟑 𝐀𝐁𝐂",
        "<s> </s> <unk> <|im_start|>user\nhi<|im_end|> <|endoftext|> <0x0A> <reponame>",
        "def f(x):\n    return x**2  # comment\n\tif (a && b) { c++; }\n",
        "\u0000\u0001\u001f\u007f control", "\u00a0nbsp\u2003emspace\u3000ideographic\u0085nel", "\u200b\u200c\u200d zero width",
        "\ufeffBOM", "a\ud800b lone surrogate", "$+<=>^~|` symbols", " @-@ <unk> = = Heading = = \n",
        new string('a', 3000), string.Concat(Enumerable.Repeat("ab ", 500)), new string(' ', 40) + "x",
    ];

    public static TheoryData<string> Vocabs => new(new[] { "llama2", "smollm2" }.Concat(VocabFixture.OtherPreTokenizers.Select(p => "smollm2-" + p)));

    private VocabPair Pick(string name) => vocabs[name];

    [Theory]
    [MemberData(nameof(Vocabs))]
    public void SamplesEncodeAsLlamaCppDoes(string name)
    {
        var v = Pick(name);
        int compared = 0;
        foreach (var text in Samples.Append(string.Join("\n", Samples)))
        {
            foreach (var (addSpecial, parseSpecial) in new[] { (false, false), (true, false), (false, true), (true, true) })
            {
                var expected = v.Reference.Tokenize(text, addSpecial, parseSpecial);
                AssertSameTokens(v, expected, v.Ours.Encode(text, addSpecial, parseSpecial), text);
                compared += expected.Length;
            }
        }
        output.WriteLine($"{name}: {compared} tokens compared on {Samples.Length + 1} samples x 4 flag combinations, 0 mismatches");
    }

    [Theory]
    [MemberData(nameof(Vocabs))]
    public void ChatMarkupWithParseSpecialEncodesAsLlamaCppDoes(string name)
    {
        var v = Pick(name);
        string[] texts =
        [
            "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
            "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHello [/INST] Hi </s><s>[INST] again [/INST]",
            "<|endoftext|><|endoftext|>text<unk>more<s>",
        ];
        foreach (var text in texts)
        {
            foreach (bool addSpecial in new[] { false, true })
            {
                AssertSameTokens(v, v.Reference.Tokenize(text, addSpecial, parseSpecial: true), v.Ours.Encode(text, addSpecial, parseSpecial: true), text);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Vocabs))]
    public void WikiTextEncodesAsLlamaCppDoes(string name)
    {
        var v = Pick(name);
        var text = File.ReadAllText(TestData.Path("data", "wikitext-2", "test.txt"));

        // the whole file in one call
        var expected = v.Reference.Tokenize(text);
        AssertSameTokens(v, expected, v.Ours.Encode(text), text);
        long compared = expected.Length;

        // and ~50 chunks on line boundaries (each chunk starts a fresh text: sentencepiece prefixes a space)
        int chunks = 0;
        foreach (var chunk in Chunks(text, 50))
        {
            var e = v.Reference.Tokenize(chunk);
            AssertSameTokens(v, e, v.Ours.Encode(chunk), chunk);
            compared += e.Length;
            chunks++;
        }
        output.WriteLine($"{name}: WikiText-2 test.txt ({text.Length} chars) whole + {chunks} chunks: {compared} tokens compared, 0 mismatches");
    }

    [Theory]
    [MemberData(nameof(Vocabs))]
    public void DecodeMatchesLlamaCppDetokenize(string name)
    {
        var v = Pick(name);
        var texts = Samples.Concat(Chunks(File.ReadAllText(TestData.Path("data", "wikitext-2", "test.txt")), 200).Take(5));
        foreach (var text in texts)
        {
            foreach (bool parseSpecial in new[] { false, true })
            {
                var ids = v.Reference.Tokenize(text, addSpecial: true, parseSpecial);
                foreach (var (removeSpecial, unparseSpecial) in new[] { (false, false), (true, false), (false, true), (true, true) })
                {
                    var expected = v.Reference.DetokenizeToUtf8(ids, removeSpecial, unparseSpecial);
                    var actual = v.Ours.DecodeToUtf8(ids, removeSpecial, unparseSpecial);
                    Assert.True(expected.AsSpan().SequenceEqual(actual),
                        $"{name} decode({removeSpecial},{unparseSpecial}) of {Show(text)}: llama.cpp {Show(Encoding.UTF8.GetString(expected))}, ours {Show(Encoding.UTF8.GetString(actual))}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Vocabs))]
    public void EveryTokenDecodesAndEndsGenerationAsInLlamaCpp(string name)
    {
        var v = Pick(name);
        Assert.Equal(v.Reference.VocabSize, v.Ours.VocabSize);
        Assert.Equal(v.Reference.Bos, v.Ours.BosId);
        Assert.Equal(v.Reference.Eos, v.Ours.EosId);
        for (int id = 0; id < v.Ours.VocabSize; id++)
        {
            Assert.True(v.Reference.IsEndOfGeneration(id) == v.Ours.IsEndOfGeneration(id), $"{name}: is_eog({id} '{v.Ours.TokenText(id)}')");
            foreach (bool special in new[] { false, true })
            {
                // a one-token text (the space-prefix strip applies to it as to any first token)
                var expected = v.Reference.DetokenizeToUtf8([id], removeSpecial: false, unparseSpecial: special);
                var actual = v.Ours.DecodeToUtf8([id], removeSpecial: false, unparseSpecial: special);
                Assert.True(expected.AsSpan().SequenceEqual(actual), $"{name}: piece of {id} '{v.Ours.TokenText(id)}' special={special}");
            }
        }
    }

    [Theory]
    [InlineData("llama2")]
    [InlineData("smollm2")]
    [InlineData("smollm2-qwen2")]   // (gpt-2, llama-bpe and default clean up spaces before punctuation when decoding)
    public void DecodeOfEncodeRoundTrips(string name)
    {
        var v = Pick(name);
        foreach (var text in Samples.Where(s => !s.Contains('\ud800')))
        {
            Assert.Equal(text, v.Ours.Decode(v.Ours.Encode(text)));
        }
    }

    [Fact]
    public void WikiTextTokenizesWellUnderAFewSeconds()
    {
        var text = File.ReadAllText(TestData.Path("data", "wikitext-2", "valid.txt"));
        foreach (var v in new[] { vocabs.SmolLm2, vocabs.Llama2 })
        {
            var fresh = Tokenizer.Create(v.Vocab);   // cold per-word cache
            var sw = Stopwatch.StartNew();
            int cold = fresh.Encode(text).Length;
            var coldTime = sw.Elapsed;
            sw.Restart();
            int warm = fresh.Encode(text).Length;
            var warmTime = sw.Elapsed;
            Assert.Equal(cold, warm);
            output.WriteLine($"{v.Name}: WikiText-2 valid.txt ({text.Length / 1e6:F2} M chars) -> {cold} tokens: cold {coldTime.TotalMilliseconds:F0} ms, warm {warmTime.TotalMilliseconds:F0} ms ({text.Length / warmTime.TotalSeconds / 1e6:F1} M chars/s)");
            Assert.True(coldTime < TimeSpan.FromSeconds(5), $"{v.Name}: {coldTime}");
        }
    }

    internal static IEnumerable<string> Chunks(string text, int count)
    {
        int target = Math.Max(1, text.Length / count);
        var sb = new StringBuilder();
        foreach (var line in text.Split('\n'))
        {
            sb.Append(line).Append('\n');
            if (sb.Length >= target)
            {
                yield return sb.ToString();
                sb.Clear();
            }
        }
        if (sb.Length > 0)
        {
            yield return sb.ToString();
        }
    }

    private static void AssertSameTokens(VocabPair v, int[] expected, int[] actual, string text)
    {
        if (expected.AsSpan().SequenceEqual(actual))
        {
            return;
        }
        int i = 0;
        while (i < expected.Length && i < actual.Length && expected[i] == actual[i])
        {
            i++;
        }
        string Around(int[] ids) => string.Join(" ", ids.Skip(Math.Max(0, i - 3)).Take(8).Select(id => $"{id}:{Show(v.Ours.TokenText(id))}"));
        Assert.Fail($"{v.Name}: {expected.Length} vs {actual.Length} tokens, first difference at {i} for {Show(text.Length > 200 ? text[..200] + "…" : text)}\n" +
            $"  llama.cpp: {Around(expected)}\n  ours:      {Around(actual)}");
    }

    private static string Show(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s.Length > 300 ? s[..300] : s)
        {
            sb.Append(c < 0x20 || c is '\u007f' or '\u0085' ? $"\\x{(int)c:X2}" : c.ToString());
        }
        return sb.Append('"').ToString();
    }
}
