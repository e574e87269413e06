using EdgeAgent.Inference.Evaluation;
using EdgeAgent.Inference.Generation;
using EdgeAgent.Inference.Llama2c;
using EdgeAgent.Inference.Model;
using Xunit.Abstractions;

namespace EdgeAgent.Inference.Tests.LlamaCpp;

/// <summary>The real tiny model (llama2.c checkpoint, imported by us) against llama.cpp on the same GGUF.</summary>
public sealed class Stories260KGgufFixture : IDisposable
{
    public Stories260KGgufFixture() => Llama2cImporter.Import(TestData.Path("models", "stories260K.bin")).Write(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"stories260K-{Guid.NewGuid():N}.gguf");

    public void Dispose() => File.Delete(Path);
}

public class Stories260KAgreementTests(Stories260KGgufFixture model, ITestOutputHelper output) : IClassFixture<Stories260KGgufFixture>
{
    // shared/README.md: llama2.c's run.c, greedy from BOS.
    private static readonly int[] Llama2cPrefix = [461, 461, 401, 401, 401, 461, 378, 455, 473, 456, 435, 299, 362, 409, 283, 264];

    [Fact]
    public void Greedy32StepsMatchLlama2cAndLlamaCpp()
    {
        using var session = InferenceSession.Open(model.Path, threads: 2);
        var result = new Generator(session, session.Model.Tokenizer).Generate([1],
            new GenerationOptions { MaxTokens = 32, Sampling = EdgeAgent.Inference.Sampling.SamplingOptions.Greedy, StopAtEndOfGeneration = false });
        output.WriteLine(string.Join(",", result.TokenIds));
        Assert.Equal(Llama2cPrefix, result.TokenIds.Take(16));

        // llama.cpp's greedy continuation of the same GGUF for all 32 steps (its logits, argmax here).
        var sequence = new List<int> { 1 };
        for (int step = 0; step < 32; step++)
        {
            var logits = LlamaCppLogits.LastPosition(model.Path, [.. sequence]);
            sequence.Add(Array.IndexOf(logits, logits.Max()));
        }
        Assert.Equal(sequence.Skip(1), result.TokenIds);
    }

    [Fact]
    public void PerplexityOnWikiTextMatchesLlamaCppWithinHalfAPercent()
    {
        const int Ctx = 128;
        using var session = InferenceSession.Open(model.Path, threads: 2, contextLength: Ctx);
        var tokenizer = session.Model.Tokenizer;
        // About 24 windows of WikiText-2 test text (the stand-in vocabulary is byte-level, so ~3000 tokens).
        string text = File.ReadAllText(TestData.Path("data", "wikitext-2", "test.txt"))[..3000];
        var tokens = tokenizer.Encode(text);
        var ours = Perplexity.Evaluate(session, tokens, Ctx, tokenizer.BosId);

        int window = Ctx - 1, windows = tokens.Length / window, vocab = session.Model.Config.VocabSize;
        double nll = 0;
        for (int w = 0; w < windows; w++)
        {
            int[] input = [tokenizer.BosId, .. tokens.AsSpan(w * window, window)];
            var logits = LlamaCppLogits.AllPositions(model.Path, input);
            for (int i = 0; i < window; i++)
            {
                nll -= Perplexity.LogSoftmaxAt(logits.AsSpan(i * vocab, vocab), input[i + 1]);
            }
        }
        double reference = Math.Exp(nll / (windows * window));
        output.WriteLine($"ours {ours.Perplexity:F4} over {ours.Tokens} tokens; llama.cpp {reference:F4}");
        Assert.Equal(windows * window, ours.Tokens);
        Assert.InRange(ours.Perplexity / reference, 0.995, 1.005);
    }
}
