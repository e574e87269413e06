using System.Text;
using EdgeAgent.Inference.Constraints;
using EdgeAgent.Inference.Tokenizers;
using Xunit.Abstractions;

namespace EdgeAgent.Inference.Tests.Constraints;

/// <summary>Mask cost on a real 49,152-token byte-level BPE vocabulary (SmolLM2), reported per token.</summary>
public sealed class MaskCostTests(ITestOutputHelper output)
{
    [Fact]
    public void Real_vocabulary_masks_are_valid_and_cheap()
    {
        var tokenizer = Tokenizer.Create(HfTokenizerJson.FromFile(TestData.Path("tokenizers", "smollm2-tokenizer.json")));
        var trie = TokenTrie.For(tokenizer);
        var schema = JsonSchemaCompiler.Compile(GrammarMaskPropertyTests.Schemas[0]);
        int tokens = 0;
        double ms = 0;
        for (ulong seed = 1; seed <= 8; seed++)
        {
            var mask = new GrammarMask(new JsonRecognizer(schema), trie);
            var rng = new Random((int)seed);
            while (!mask.IsFinished)
            {
                var allowed = mask.AllowedTokens();
                mask.Accept(allowed[rng.Next(allowed.Count)]);
            }
            Assert.True(new JsonRecognizer(schema).Accepts(mask.Output));
            System.Text.Json.JsonDocument.Parse(Encoding.UTF8.GetString(mask.Output)).Dispose();
            tokens += mask.MaskCount;
            ms += mask.MaskTime.TotalMilliseconds;
        }
        output.WriteLine($"vocab {trie.VocabSize}, trie nodes {trie.NodeCount}: {tokens} masks, {ms / tokens:F3} ms per token");
        Assert.True(ms / tokens < 50, $"mask cost {ms / tokens:F1} ms per token");
    }
}
