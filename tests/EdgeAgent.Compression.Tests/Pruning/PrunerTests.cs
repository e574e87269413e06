using EdgeAgent.Compression.Calibration;
using EdgeAgent.Compression.Model;
using EdgeAgent.Compression.Pruning;
using EdgeAgent.Inference.Generation;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Compression.Tests.Pruning;

public class PrunerTests
{
    private const int Rows = 64, Cols = 256;

    [Fact]
    public void WandaBeatsMagnitudeOnARandomLayersOutputAtHalfSparsity()
    {
        var w = TestModels.Gaussian(Rows * Cols, 21, 0.05f);
        var x = TestModels.Activations(512, Cols, 22);
        var stats = new InputStatistics(Cols, hessian: false, maxSamples: 0);
        stats.Add(x, 512);
        var calibration = new CalibrationData();
        calibration.Inputs["blk.0.ffn_in"] = stats;
        var byMagnitude = new FloatTensor("blk.0.ffn_up.weight", [Cols, Rows], (float[])w.Clone());
        var byWanda = new FloatTensor("blk.0.ffn_up.weight", [Cols, Rows], (float[])w.Clone());
        ModelPruner.Unstructured(byMagnitude, new MagnitudeImportance(), PrunePattern.Unstructured, 0.5);
        ModelPruner.Unstructured(byWanda, new ActivationImportance(calibration), PrunePattern.Unstructured, 0.5);
        Assert.Equal(Rows * Cols / 2, byMagnitude.Data.Count(v => v == 0));
        Assert.Equal(Rows * Cols / 2, byWanda.Data.Count(v => v == 0));
        double eMag = TestModels.OutputError(w, byMagnitude.Data, Rows, Cols, x);
        double eWanda = TestModels.OutputError(w, byWanda.Data, Rows, Cols, x);
        Assert.True(eWanda < 0.8 * eMag, $"wanda {eWanda:G4} vs magnitude {eMag:G4}");
    }

    [Fact]
    public void TwoFourPruningLeavesExactlyTwoOfEveryFour()
    {
        var t = new FloatTensor("blk.0.attn_q.weight", [Cols, Rows], TestModels.Gaussian(Rows * Cols, 5));
        var original = (float[])t.Data.Clone();
        ModelPruner.Unstructured(t, new MagnitudeImportance(), PrunePattern.TwoFour, 0.5);
        for (int g = 0; g < t.Data.Length; g += 4)
        {
            var kept = Enumerable.Range(g, 4).Where(i => t.Data[i] != 0).ToArray();
            Assert.Equal(2, kept.Length);
            // The two kept are the two largest in magnitude, unchanged.
            var largest = Enumerable.Range(g, 4).OrderByDescending(i => MathF.Abs(original[i])).Take(2).Order().ToArray();
            Assert.Equal(largest, kept);
            Assert.All(kept, i => Assert.Equal(original[i], t.Data[i]));
        }
        for (int r = 0; r < Rows; r++)
        {
            Assert.True(Sparse24Format.IsTwoFour(t.Row(r)));
        }
    }

    [Fact]
    public void WholeModelPruningReportsSparsityAndKeepsEmbeddings()
    {
        var model = ModelTensors.Load(TestModels.Random);
        var embedding = (float[])model["token_embd.weight"].Data.Clone();
        var r = ModelPruner.Run(model, new PruneOptions(PruneMethod.Magnitude, 0.5), null);
        Assert.InRange(r.Sparsity, 0.499, 0.501);
        Assert.Equal(r.ParametersBefore, model.ParameterCount);
        Assert.True(r.ParametersAfter < r.ParametersBefore);
        Assert.Equal(embedding, model["token_embd.weight"].Data);
    }

    [Theory]
    [InlineData(PruneMethod.Neuron, 0.5)]
    [InlineData(PruneMethod.Heads, 0.5)]
    [InlineData(PruneMethod.Layers, 0.5)]
    public void StructuredPruningWritesASmallerModelThatRuns(PruneMethod method, double sparsity)
    {
        var model = ModelTensors.Load(TestModels.Random);
        var calibration = TestModels.RandomCalibration(ModelTensors.Load(TestModels.Random));
        var r = ModelPruner.Run(model, new PruneOptions(method, sparsity), calibration);
        Assert.True(r.ParametersAfter < r.ParametersBefore);
        Assert.Equal(r.ParametersAfter, model.ParameterCount);
        string output = TestModels.Output($"pruned-{method}.gguf");
        model.ToWriter(_ => GgmlType.F32).Write(output);
        Assert.True(new FileInfo(output).Length < new FileInfo(TestModels.Random).Length);
        using var s = InferenceSession.Open(output, 2, 32);
        var c = s.Model.Config;
        switch (method)
        {
            case PruneMethod.Neuron:
                Assert.Equal(256, c.FfnDim);
                break;
            case PruneMethod.Heads:
                Assert.Equal(2, c.Heads);
                Assert.Equal(64, c.HeadDim);
                break;
            case PruneMethod.Layers:
                Assert.Equal(1, c.Layers);
                break;
        }
        Assert.All(s.Evaluate([1, 5, 9, 200]), v => Assert.True(float.IsFinite(v)));
        // A pruned model is still a float model: it can be quantized, and the result loads too.
        var q = EdgeAgent.Compression.Quantization.ModelQuantizer.Run(ModelTensors.Load(output), new EdgeAgent.Compression.Quantization.QuantizeOptions { Method = EdgeAgent.Compression.Quantization.QuantMethod.NF4 }, null, TestModels.Output($"pruned-{method}-nf4.gguf"));
        using var sq = InferenceSession.Open(TestModels.Output($"pruned-{method}-nf4.gguf"), 2, 32);
        Assert.True(q.BitsPerWeight < 6);
    }

    [Theory]
    [InlineData(PruneMethod.Magnitude, 1.5, null, "outside 0..1")]
    [InlineData(PruneMethod.Magnitude, -0.1, null, "outside 0..1")]
    [InlineData(PruneMethod.Wanda, 0.5, null, "needs --calibration")]
    [InlineData(PruneMethod.Magnitude, 0.5, PrunePattern.Structured, "neuron, heads or layers")]
    [InlineData(PruneMethod.Neuron, 0.5, PrunePattern.TwoFour, "structured")]
    [InlineData(PruneMethod.Magnitude, 0.3, PrunePattern.TwoFour, "--sparsity 0.5")]
    public void BadOptionsAreRefused(PruneMethod method, double sparsity, PrunePattern? pattern, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => new PruneOptions(method, sparsity, pattern).Validate(hasCalibration: false));
        Assert.Contains(message, e.Message);
    }
}
