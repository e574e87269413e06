using EdgeAgent.Inference.Gguf;
using EdgeAgent.Inference.Tests.LlamaCpp;
using EdgeAgent.Inference.Tokenizers;
using EdgeAgent.Training.Tokenizers;

namespace EdgeAgent.Training.Tests.Tokenizers;

public sealed class BpeTrainerTests
{
    private static readonly Lazy<BpeVocabulary> s_vocab = new(() => BpeTrainer.Train([SharedData.Shakespeare().Train[..200_000]], 400));

    [Fact]
    public void TrainsTheRequestedSizeAndMergesFrequentWords()
    {
        var v = s_vocab.Value;
        Assert.Equal(400, v.Tokens.Count);
        Assert.Equal(BpeVocabulary.EndOfText, v.Tokens[0]);
        Assert.Equal(v.Tokens.Count, v.Tokens.Distinct().Count());
        // The most frequent English words become whole tokens (with GPT-2's space marker Ġ).
        Assert.Contains("Ġthe", v.Tokens);
        Assert.Contains("Ġand", v.Tokens);
        // Every merge's parts are earlier tokens.
        var seen = new HashSet<string>(v.Tokens.Take(257));
        foreach (var m in v.Merges)
        {
            var parts = m.Split(' ');
            Assert.Contains(parts[0], seen);
            Assert.Contains(parts[1], seen);
            seen.Add(parts[0] + parts[1]);
        }
    }

    [Fact]
    public void HfJsonImportsAsGpt2ByteLevelBpeThatRoundTrips()
    {
        var vocab = s_vocab.Value.ToVocab();
        Assert.Equal("gpt-2", vocab.Pre);
        Assert.Equal(0, vocab.BosId);
        var tok = Tokenizer.Create(vocab);
        string text = SharedData.Shakespeare().Valid[..5000] + " naïve café — 日本語 🙂\r\n\t  end";
        var ids = tok.Encode(text);
        // Byte-level BPE is lossless: the tokens' bytes are the text's bytes.
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(text), ids.SelectMany(id => tok.TokenBytes(id)).ToArray());
        Assert.True(ids.Length < System.Text.Encoding.UTF8.GetByteCount(text) * 0.6, "merges should compress English text");
    }

    [Fact]
    public void LlamaCppTokenizesExactlyAsWeDo()
    {
        var vocab = s_vocab.Value.ToVocab();
        var path = Path.Combine(Path.GetTempPath(), $"ea-bpe-{Environment.ProcessId}.tmp.gguf");
        var w = new GgufWriter().Set("general.architecture", "llama");
        vocab.WriteTo(w);
        w.Write(path);
        try
        {
            using var llama = LlamaCppFixture.Load(path);
            var ours = Tokenizer.Create(vocab);
            foreach (var text in new[]
            {
                SharedData.Shakespeare().Valid[..20_000],
                "  leading spaces, trailing   \n\n\nnumbers 1234567 and 3.14, it's we'll THEY'RE",
                "unicode: naïve café — 日本語 🙂 Ünïcödé",
            })
            {
                Assert.Equal(llama.Tokenize(text), ours.Encode(text));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void RejectsTinyVocabulariesAndEmptyCorpora()
    {
        Assert.Throws<ArgumentException>(() => BpeTrainer.Train(["hello"], 255));
        Assert.Throws<ArgumentException>(() => BpeTrainer.Train([""], 300));
    }

    [Fact]
    public void IsDeterministic()
    {
        var text = SharedData.Shakespeare().Train[..30_000];
        Assert.Equal(BpeTrainer.Train([text], 300).ToHfJson(), BpeTrainer.Train([text], 300).ToHfJson());
    }
}
