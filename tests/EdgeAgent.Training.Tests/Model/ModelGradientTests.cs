using EdgeAgent.Tensors.Threading;
using EdgeAgent.Training.Model;
using EdgeAgent.Training.Ops;

namespace EdgeAgent.Training.Tests.Model;

/// <summary>Finite-difference check of the whole model's backward pass (every parameter), in float64, and
/// agreement of the float32 path (SIMD GEMM) with it.</summary>
public sealed class ModelGradientTests
{
    private static readonly ModelShape Gqa = new(Dim: 8, Layers: 2, Heads: 4, KvHeads: 2, FfnDim: 12, VocabSize: 11, ContextLength: 8);

    private static (int[] Tokens, int[] Targets) Data(ModelShape s, int batch, int seq, int seed)
    {
        var r = new Random(seed);
        var tokens = Enumerable.Range(0, batch * seq).Select(_ => r.Next(s.VocabSize)).ToArray();
        var targets = Enumerable.Range(0, batch * seq).Select(i => i % 7 == 3 ? -1 : r.Next(s.VocabSize)).ToArray();
        return (tokens, targets);
    }

    private static void InitDouble(TrainableTransformer<double> m, int seed)
    {
        // Larger than training's init so every path (attention, gates, norms) carries signal.
        var p = GradCheck.Random(m.Parameters.Length, seed, 0.5);
        foreach (var t in m.Layout.Tensors.Where(t => !t.IsMatrix))
        {
            for (long i = t.Offset; i < t.Offset + t.Length; i++)
            {
                p[i] = 1 + 0.3 * p[i];
            }
        }
        p.CopyTo(m.Parameters, 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WholeModelCrossEntropy(bool tied)
    {
        var shape = Gqa with { TiedOutput = tied };
        using var pool = new ComputePool(2);
        var m = new TrainableTransformer<double>(shape, batch: 2, seqLen: 6, pool);
        InitDouble(m, 21);
        var (tokens, targets) = Data(shape, 2, 6, 22);
        double Loss()
        {
            m.Forward(tokens);
            var (sum, count) = m.CrossEntropy(targets, null);
            return sum / count;
        }
        m.Forward(tokens);
        int n = targets.Count(t => t >= 0);
        m.ZeroGradients();
        m.CrossEntropy(targets, 1.0 / n);
        m.Backward();
        var g = (double[])m.Gradients.Clone();
        GradCheck.Check("dθ", m.Parameters, g, Loss);
    }

    [Theory]
    [InlineData(KlDirection.Forward)]
    [InlineData(KlDirection.Reverse)]
    public void WholeModelDistillation(KlDirection direction)
    {
        using var pool = new ComputePool(2);
        var m = new TrainableTransformer<double>(Gqa, batch: 1, seqLen: 5, pool);
        InitDouble(m, 23);
        var (tokens, _) = Data(Gqa, 1, 5, 24);
        var teacher = GradCheck.Random(5 * Gqa.VocabSize, 25, 4);
        double Loss()
        {
            m.Forward(tokens);
            return m.KlDivergence(teacher, 2.0, direction, 1.0);
        }
        Loss();
        m.ZeroGradients();
        m.Backward();
        var g = (double[])m.Gradients.Clone();
        GradCheck.Check("dθ", m.Parameters, g, Loss, stride: 3);
    }

    /// <summary>The float32 path (SIMD GEMM, float activations) against float64 on the same weights: gradients agree
    /// to float precision (relative L2 error ≤ 1e-4).</summary>
    [Fact]
    public void FloatPathAgreesWithDouble()
    {
        var shape = new ModelShape(Dim: 32, Layers: 2, Heads: 4, KvHeads: 2, FfnDim: 40, VocabSize: 50, ContextLength: 16);
        using var pool = new ComputePool(2);
        var md = new TrainableTransformer<double>(shape, 2, 16, pool);
        var mf = new TrainableTransformer<float>(shape, 2, 16, pool);
        var init = new float[mf.Parameters.Length];
        mf.Layout.Initialize(init, 7);
        for (int i = 0; i < init.Length; i++)
        {
            init[i] *= 10;   // a less trivial operating point than the 0.02 init
        }
        init.CopyTo(mf.Parameters, 0);
        for (int i = 0; i < init.Length; i++)
        {
            md.Parameters[i] = init[i];
        }
        var (tokens, targets) = Data(shape, 2, 16, 8);
        int n = targets.Count(t => t >= 0);
        md.Forward(tokens);
        var (ld, _) = md.CrossEntropy(targets, 1.0 / n);
        md.ZeroGradients();
        md.Backward();
        mf.Forward(tokens);
        var (lf, _) = mf.CrossEntropy(targets, 1f / n);
        mf.ZeroGradients();
        mf.Backward();
        Assert.Equal(ld / n, lf / n, 4);
        double num = 0, den = 0;
        for (int i = 0; i < init.Length; i++)
        {
            num += Math.Pow(md.Gradients[i] - mf.Gradients[i], 2);
            den += md.Gradients[i] * md.Gradients[i];
        }
        Assert.True(den > 0);
        Assert.True(Math.Sqrt(num / den) < 1e-4, $"relative gradient error {Math.Sqrt(num / den):E2}");
    }
}
