using Xunit.Abstractions;
using EdgeAgent.Inference.Evaluation;
using EdgeAgent.Inference.Generation;
using EdgeAgent.Inference.Tests.LlamaCpp;
using EdgeAgent.Tensors.Threading;
using EdgeAgent.Training.Data;
using EdgeAgent.Training.Model;

namespace EdgeAgent.Training.Tests;

/// <summary>A model we train is a standard llama GGUF: llama.cpp loads it, tokenizes held-out text as we do and scores
/// it with the same perplexity as our engine and as the trainer's own forward pass.</summary>
public sealed class LlamaCppAgreementTests(ITestOutputHelper output)
{
    [Fact]
    public void TrainedModelLoadsInLlamaCppWithTheSamePerplexity()
    {
        const int ctx = 64;
        var shape = new ModelShape(Dim: 64, Layers: 2, Heads: 4, KvHeads: 2, FfnDim: 128, VocabSize: TinyCorpus.VocabSize, ContextLength: ctx);
        using var pool = new ComputePool(2);
        var trainer = new Trainer(shape, new TrainingOptions { Steps = 60, Batch = 8, SeqLen = ctx, LearningRate = 5e-3f }, pool);
        for (int i = 0; i < 60; i++)
        {
            trainer.TrainStep(TinyCorpus.Train);
        }
        var path = Path.Combine(Path.GetTempPath(), $"ea-trained-{Environment.ProcessId}.tmp.gguf");
        ModelFile.Write(path, trainer.Model.Layout, trainer.Model.Parameters, TinyCorpus.Vocab);
        try
        {
            string text = TinyCorpus.ValidText[..4000];

            // Our engine, reading the file.
            using var session = InferenceSession.Open(path, threads: 2, contextLength: ctx);
            var tokenizer = session.Model.Tokenizer;
            var tokens = tokenizer.Encode(text);
            var ours = Perplexity.Evaluate(session, tokens, ctx, tokenizer.BosId);

            // The trainer's forward pass on the same windows.
            double trainerNll = trainer.Evaluate(new TokenDataset(tokens, tokenizer.BosId));
            Assert.True(Math.Abs(trainerNll - ours.MeanNll) < 1e-4, $"trainer {trainerNll} vs engine {ours.MeanNll}");

            // llama.cpp: same tokens, same windows (BOS + ctx−1 tokens), exact-arithmetic settings.
            using (var llama = LlamaCppFixture.Load(path))
            {
                Assert.Equal(tokens, llama.Tokenize(text));
                Assert.Equal(tokenizer.BosId, llama.Bos);
            }
            int window = ctx - 1;
            double nll = 0;
            var input = new int[ctx];
            for (int w = 0; w < ours.Windows; w++)
            {
                input[0] = tokenizer.BosId;
                Array.Copy(tokens, w * window, input, 1, window);
                var logits = LlamaCppLogits.AllPositions(path, input);
                int v = logits.Length / ctx;
                for (int i = 0; i < window; i++)
                {
                    nll -= Perplexity.LogSoftmaxAt(logits.AsSpan(i * v, v), input[i + 1]);
                }
            }
            double llamaPpl = Math.Exp(nll / (ours.Windows * window));
            output.WriteLine($"{tokens.Length} tokens, {ours.Windows} windows: engine perplexity {ours.Perplexity:F5}, trainer {Math.Exp(trainerNll):F5}, llama.cpp {llamaPpl:F5} (relative difference {Math.Abs(llamaPpl - ours.Perplexity) / ours.Perplexity:E2})");
            Assert.True(Math.Abs(llamaPpl - ours.Perplexity) / ours.Perplexity < 0.005, $"llama.cpp {llamaPpl} vs ours {ours.Perplexity}");

            // And the model learned something: far below the unigram baseline on held-out text.
            double unigram = Math.Exp(UnigramBaseline.MeanNll(TinyCorpus.Train.Tokens, tokens, TinyCorpus.VocabSize));
            Assert.True(ours.Perplexity < 0.8 * unigram, $"perplexity {ours.Perplexity} vs unigram {unigram}");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
