using EdgeAgent.Tensors.Threading;
using EdgeAgent.Training.Data;
using EdgeAgent.Training.Hooks;
using EdgeAgent.Training.Model;
using EdgeAgent.Training.Optim;

namespace EdgeAgent.Training.Tests;

public sealed class TrainerTests
{
    private static ModelShape Shape => new(Dim: 32, Layers: 2, Heads: 4, KvHeads: 2, FfnDim: 64, VocabSize: TinyCorpus.VocabSize, ContextLength: 32);

    private static TrainingOptions Options(int steps) => new() { Steps = steps, Batch = 4, SeqLen = 32, LearningRate = 5e-3f, Seed = 3 };

    [Fact]
    public void LossFallsWellBelowTheUnigramBaseline()
    {
        using var pool = new ComputePool(2);
        var trainer = new Trainer(Shape, Options(150) with { Batch = 8 }, pool);
        var valid = new TokenDataset(TinyCorpus.Tokenizer.Encode(TinyCorpus.ValidText), TinyCorpus.Train.Bos);
        double before = trainer.Evaluate(valid);
        Assert.InRange(before, Math.Log(TinyCorpus.VocabSize) - 0.5, Math.Log(TinyCorpus.VocabSize) + 0.5);   // uniform at init
        for (int i = 0; i < 150; i++)
        {
            trainer.TrainStep(TinyCorpus.Train);
        }
        double after = trainer.Evaluate(valid);
        double unigram = UnigramBaseline.MeanNll(TinyCorpus.Train.Tokens, valid.Tokens, TinyCorpus.VocabSize);
        Assert.True(after < unigram - 0.3, $"held-out loss {after:F3} vs unigram {unigram:F3}");
    }

    [Fact]
    public void BitIdenticalForAnyThreadCountAndSeeded()
    {
        float[] Run(int threads, ulong seed)
        {
            using var pool = new ComputePool(threads);
            var t = new Trainer(Shape, Options(4) with { Seed = seed }, pool);
            for (int i = 0; i < 4; i++)
            {
                t.TrainStep(TinyCorpus.Train);
            }
            return t.Model.Parameters;
        }
        var one = Run(1, 3);
        Assert.Equal(one, Run(2, 3));
        Assert.Equal(one, Run(3, 3));
        Assert.NotEqual(one, Run(2, 4));
    }

    [Fact]
    public void CheckpointResumesExactly()
    {
        using var pool = new ComputePool(2);
        var straight = new Trainer(Shape, Options(6), pool);
        var losses = new List<float>();
        for (int i = 0; i < 6; i++)
        {
            losses.Add(straight.TrainStep(TinyCorpus.Train).Loss);
        }
        var path = Path.Combine(Path.GetTempPath(), $"ea-ckpt-{Environment.ProcessId}.bin");
        try
        {
            var first = new Trainer(Shape, Options(6), pool);
            for (int i = 0; i < 3; i++)
            {
                first.TrainStep(TinyCorpus.Train);
            }
            first.SaveCheckpoint(path);
            var resumed = new Trainer(Shape, Options(6) with { Seed = 99 }, pool);   // everything comes from the file
            resumed.LoadCheckpoint(path);
            Assert.Equal(3, resumed.Step);
            for (int i = 3; i < 6; i++)
            {
                Assert.Equal(losses[i], resumed.TrainStep(TinyCorpus.Train).Loss);
            }
            Assert.Equal(straight.Model.Parameters, resumed.Model.Parameters);
            Assert.Equal(straight.Optimizer.V, resumed.Optimizer.V);

            var other = new Trainer(Shape with { Dim = 16 }, Options(6), pool);
            Assert.Throws<InvalidDataException>(() => other.LoadCheckpoint(path));

            // A run key is checked when both the file and the caller have one.
            first.SaveCheckpoint(path, "corpus A, steps 6");
            new Trainer(Shape, Options(6), pool).LoadCheckpoint(path, "corpus A, steps 6");
            new Trainer(Shape, Options(6), pool).LoadCheckpoint(path);
            var e = Assert.Throws<InvalidDataException>(() => new Trainer(Shape, Options(6), pool).LoadCheckpoint(path, "corpus B, steps 6"));
            Assert.Contains("another run (corpus A, steps 6)", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AStepAllocatesNothingAfterWarmUp()
    {
        using var pool = new ComputePool(2);
        var trainer = new Trainer(Shape, Options(10) with { GradAccumulation = 2 }, pool);
        trainer.TrainStep(TinyCorpus.Train);
        trainer.TrainStep(TinyCorpus.Train);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++)
        {
            trainer.TrainStep(TinyCorpus.Train);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void GradientAccumulationEqualsOneLargerBatch()
    {
        // Two micro-batches of 4 sequences draw the same sequences as one batch of 8, so one update must agree up to
        // float summation order.
        using var pool = new ComputePool(2);
        var big = new Trainer(Shape, Options(5) with { Batch = 8 }, pool);
        var accumulated = new Trainer(Shape, Options(5) with { Batch = 4, GradAccumulation = 2 }, pool);
        var a = big.TrainStep(TinyCorpus.Train);
        var b = accumulated.TrainStep(TinyCorpus.Train);
        Assert.Equal(a.Loss, b.Loss, 5);
        Assert.Equal(a.GradNorm, b.GradNorm, 4);
        for (int i = 0; i < big.Model.Parameters.Length; i++)
        {
            Assert.True(Math.Abs(big.Model.Parameters[i] - accumulated.Model.Parameters[i]) < 1e-5f, $"parameter {i}");
        }
    }

    [Fact]
    public void ScheduleWarmsUpThenDecaysToTheFloor()
    {
        var s = new LearningRateSchedule(1f, WarmupSteps: 10, TotalSteps: 110, MinFraction: 0.1f);
        Assert.Equal(0.1f, s.At(0), 6);
        Assert.Equal(1f, s.At(9), 6);
        Assert.Equal(0.55f, s.At(60), 4);   // half way through the cosine
        Assert.Equal(0.1f, s.At(110), 6);
        Assert.True(s.At(30) > s.At(31));
    }

    [Fact]
    public void CalibrationHooksCollectActivationAndGradientStatistics()
    {
        using var pool = new ComputePool(2);
        var model = new TrainableTransformer<float>(Shape, 2, 32, pool);
        model.Layout.Initialize(model.Parameters, 5);
        var data = new TokenDataset(TinyCorpus.Train.Tokens[..(31 * 3)].ToArray(), TinyCorpus.Train.Bos);   // 3 windows
        var acts = new ActivationStatistics(Shape);
        var grads = new GradientStatistics(model.Parameters.Length);
        Calibration.Run(model, data, acts, grads);
        Assert.Equal(2, grads.Count);                       // 3 windows in batches of 2
        var q0 = acts.ByWeight["blk.0.attn_q.weight"];
        Assert.Same(q0, acts.ByWeight["blk.0.attn_v.weight"]);
        Assert.Equal(3 * 32, q0.Rows);                      // padding rows of the last batch are skipped

        // The last batch is still in the model: its first window's rows match the statistics' share of them.
        var (attnIn, _, _, _) = model.LayerInputs(0);
        double manual = 0;
        for (int r = 0; r < 32; r++)
        {
            manual += attnIn[r * Shape.Dim] * (double)attnIn[r * Shape.Dim];
        }
        Assert.True(q0.SumOfSquares[0] >= manual && manual > 0);
        // Σg² ≥ (Σg)²/count per weight (Cauchy–Schwarz), with equality only for identical batch gradients.
        for (int i = 0; i < grads.Sum.Length; i += 97)
        {
            Assert.True(grads.SumOfSquares[i] * grads.Count >= grads.Sum[i] * grads.Sum[i] * (1 - 1e-9));
        }
        Assert.Contains(grads.SumOfSquares, g => g > 0);
    }
}
