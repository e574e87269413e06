using EdgeAgent.Tensors.Threading;
using EdgeAgent.Training.Data;
using EdgeAgent.Training.Model;
using EdgeAgent.Training.Ops;

namespace EdgeAgent.Training.Tests;

public sealed class DistillationTests
{
    private static ModelShape Teacher => new(Dim: 32, Layers: 2, Heads: 4, KvHeads: 2, FfnDim: 64, VocabSize: TinyCorpus.VocabSize, ContextLength: 32);

    private static TrainingOptions Options(int steps) => new() { Steps = steps, Batch = 8, SeqLen = 32, LearningRate = 5e-3f, Seed = 3 };

    private static readonly Lazy<float[]> s_teacher = new(() =>
    {
        using var pool = new ComputePool(2);
        var t = new Trainer(Teacher, Options(150), pool);
        for (int i = 0; i < 150; i++)
        {
            t.TrainStep(TinyCorpus.Train);
        }
        return t.Model.Parameters;
    });

    private static TrainableTransformer<float> TeacherNet(ComputePool pool)
    {
        var net = new TrainableTransformer<float>(Teacher, 8, 32, pool);
        s_teacher.Value.CopyTo(net.Parameters, 0);
        return net;
    }

    [Fact]
    public void WithCrossEntropyWeightOneADistillationStepIsATrainingStep()
    {
        using var pool = new ComputePool(2);
        var teacher = TeacherNet(pool);
        var shape = Teacher with { Layers = 1 };
        var a = new Trainer(shape, Options(3), pool);
        var b = new Trainer(shape, Options(3), pool);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(a.TrainStep(TinyCorpus.Train).Loss, b.DistillStep(TinyCorpus.Train, teacher, new DistillationLoss(CrossEntropyWeight: 1)).Loss, 5);
        }
        Assert.Equal(a.Model.Parameters, b.Model.Parameters);
    }

    [Fact]
    public void StudentOfTheTeachersOwnShapeStartingFromItHasZeroLossAndGradient()
    {
        using var pool = new ComputePool(2);
        var teacher = TeacherNet(pool);
        foreach (var direction in new[] { KlDirection.Forward, KlDirection.Reverse })
        {
            var student = new Trainer(Teacher, Options(1), pool, s_teacher.Value);
            var step = student.DistillStep(TinyCorpus.Train, teacher, new DistillationLoss(2f, direction));
            Assert.InRange(step.Loss, -1e-5f, 1e-5f);
            Assert.InRange(step.GradNorm, 0f, 1e-4f);
        }
    }

    // Measured once (teacher 2 layers at held-out loss 3.73, students 1 layer, 30 steps): scratch 4.535; forward KL
    // τ = 1: 4.430, τ = 1 with α = 0.5 CE: 4.485; τ = 2: 4.589 and reverse KL τ = 1: 4.620 lose at this step count.
    [Fact]
    public void HalfDepthStudentDistilledBeatsTheSameStudentTrainedFromScratchForTheSameSteps()
    {
        const int steps = 30;
        using var pool = new ComputePool(2);
        var teacher = TeacherNet(pool);
        var valid = new TokenDataset(TinyCorpus.Tokenizer.Encode(TinyCorpus.ValidText), TinyCorpus.Train.Bos);
        var shape = Teacher with { Layers = 1 };
        var scratch = new Trainer(shape, Options(steps), pool);
        var distilled = new Trainer(shape, Options(steps), pool);
        for (int i = 0; i < steps; i++)
        {
            scratch.TrainStep(TinyCorpus.Train);
            distilled.DistillStep(TinyCorpus.Train, teacher, new DistillationLoss(1f, KlDirection.Forward));
        }
        double s = scratch.Evaluate(valid), d = distilled.Evaluate(valid);
        Assert.True(d < s, $"distilled held-out loss {d:F4} vs scratch {s:F4}");
    }
}
