using EdgeAgent.Compression.Calibration;
using EdgeAgent.Compression.Model;
using EdgeAgent.Compression.Pruning;
using EdgeAgent.Tensors.Threading;
using EdgeAgent.Training.Data;
using EdgeAgent.Training.Model;

namespace EdgeAgent.Compression.Tests.Pruning;

public class TaylorTests
{
    private const int Context = 64;

    private static readonly Lazy<(ModelTensors Model, int[] Tokens)> s_setup = new(() =>
        (ModelTensors.Load(TestModels.Random), TestModels.Tokens(3 * (Context - 1), TestModels.Shape.VocabSize)));

    [Fact]
    public void TrainingEngineGradientsArePerWindowSumsOfTheCrossEntropyGradient()
    {
        var (model, tokens) = s_setup.Value;
        var (sum, squares) = new TrainingGradientSource(batch: 1, threads: 2).Accumulate(model, tokens, bos: 1, Context);

        // Reference: the trainer's own backward pass on each of the three windows, mean cross-entropy per window.
        var shape = ModelShape.FromConfig(model.Config, tiedOutput: model.Find("output.weight") is null);
        using var pool = new ComputePool(2);
        var net = new TrainableTransformer<float>(shape, 1, Context, pool);
        foreach (var t in net.Layout.Tensors)
        {
            model[t.Name].Data.CopyTo(net.Parameters, t.Offset);
        }
        var data = new TokenDataset(tokens, 1);
        var expectSum = new double[net.Layout.Count];
        var expectSquares = new double[net.Layout.Count];
        var inputs = new int[Context];
        var targets = new int[Context];
        for (int w = 0; w < 3; w++)
        {
            data.EvalBatch(w, 1, Context, inputs, targets);
            net.Forward(inputs);
            net.CrossEntropy(targets, 1f / (Context - 1));
            net.ZeroGradients();
            net.Backward();
            for (int i = 0; i < expectSum.Length; i++)
            {
                expectSum[i] += net.Gradients[i];
                expectSquares[i] += (double)net.Gradients[i] * net.Gradients[i];
            }
        }
        foreach (var t in net.Layout.Tensors)
        {
            Assert.Equal(t.Length, sum[t.Name].Length);
            for (int i = 0; i < t.Length; i++)
            {
                Assert.Equal(expectSum[t.Offset + i], sum[t.Name][i], 1e-6 + (1e-4 * Math.Abs(expectSum[t.Offset + i])));
                Assert.Equal(expectSquares[t.Offset + i], squares[t.Name][i], 1e-12 + (1e-4 * expectSquares[t.Offset + i]));
            }
        }
        // Every block matrix gets a gradient signal.
        Assert.All(model.Tensors.Where(ModelPruner.IsPrunable), t => Assert.Contains(squares[t.Name], g => g > 0));
    }

    [Fact]
    public void TaylorPruningZerosTheWeightsWithTheSmallestWeightTimesRmsGradient()
    {
        var (model, tokens) = s_setup.Value;
        var copy = ModelTensors.Load(TestModels.Random);
        var source = new TrainingGradientSource(batch: 1, threads: 2);
        var (_, squares) = source.Accumulate(model, tokens, bos: 1, Context);
        var importance = GradientImportance.Collect(copy, tokens, bos: 1, Context, source);
        var result = ModelPruner.Run(copy, new PruneOptions(PruneMethod.Taylor, 0.5), calibration: null, importance);
        Assert.Equal(0.5, result.Sparsity, 3);

        // Per tensor: every pruned weight's |W|·√Σg² is at most every kept one's; and the mask differs from magnitude's.
        var t = model["blk.1.ffn_down.weight"];
        var pruned = copy["blk.1.ffn_down.weight"].Data;
        var score = t.Data.Select((w, i) => MathF.Abs(w) * MathF.Sqrt(squares[t.Name][i])).ToArray();
        float maxPruned = Enumerable.Range(0, score.Length).Where(i => pruned[i] == 0).Max(i => score[i]);
        float minKept = Enumerable.Range(0, score.Length).Where(i => pruned[i] != 0).Min(i => score[i]);
        Assert.True(maxPruned <= minKept, $"pruned score {maxPruned} > kept score {minKept}");
        var byMagnitude = new FloatTensor(t.Name, t.Dimensions, (float[])t.Data.Clone());
        ModelPruner.Unstructured(byMagnitude, new MagnitudeImportance(), PrunePattern.Unstructured, 0.5);
        int differ = Enumerable.Range(0, pruned.Length).Count(i => (pruned[i] == 0) != (byMagnitude.Data[i] == 0));
        Assert.True(differ > pruned.Length / 20, $"taylor's mask differs from magnitude's in only {differ} places");
    }

    [Fact]
    public void TaylorWithoutGradientsIsRefused()
    {
        var copy = ModelTensors.Load(TestModels.Random);
        var e = Assert.Throws<ArgumentException>(() => ModelPruner.Run(copy, new PruneOptions(PruneMethod.Taylor, 0.5), calibration: null));
        Assert.Contains("needs --calibration", e.Message);
    }
}
