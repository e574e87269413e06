using EdgeAgent.Compression.Evaluation;
using EdgeAgent.Compression.Model;
using EdgeAgent.Compression.Quantization;
using EdgeAgent.Inference.Generation;
using EdgeAgent.Inference.Gguf;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Compression.Tests.Quantization;

/// <summary>Whole-model quantization: every output loads and runs in our engine close to the float model; ggml outputs
/// load in llama.cpp and agree with our engine; bad options are refused.</summary>
public class ModelQuantizerTests
{
    private static readonly int[] Prompt = [1, 17, 200, 33, 401, 5, 99, 250];

    private static float[] OurLogits(string path)
    {
        using var s = InferenceSession.Open(path, threads: 2, contextLength: 64);
        var all = new float[Prompt.Length * s.Model.Config.VocabSize];
        s.Transformer.Forward(Prompt, s.Cache, all, allLogits: true);
        return all;
    }

    /// <summary>The engine agreement tests' criterion: max |Δ| within 2 % of the reference's standard deviation.</summary>
    private static void AssertAgrees(float[] ours, float[] reference, string what)
    {
        double mean = reference.Average();
        double std = Math.Sqrt(reference.Select(v => (v - mean) * (v - mean)).Average());
        double maxDiff = reference.Zip(ours, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(maxDiff <= 0.02 * std, $"{what}: max |Δ| {maxDiff} exceeds 2% of the reference std {std}");
    }

    private static double RelativeError(float[] a, float[] b)
    {
        double e = 0, n = 0;
        for (int i = 0; i < a.Length; i++)
        {
            e += (a[i] - b[i]) * (double)(a[i] - b[i]);
            n += b[i] * (double)b[i];
        }
        return Math.Sqrt(e / n);
    }

    [Theory]
    [InlineData(QuantMethod.Affine, 4, 32, 0.12)]
    [InlineData(QuantMethod.Affine, 8, 128, 0.03)]
    [InlineData(QuantMethod.Symmetric, 4, 64, 0.15)]
    [InlineData(QuantMethod.Log2, 4, 32, 0.3)]
    [InlineData(QuantMethod.NF4, 4, 64, 0.15)]
    [InlineData(QuantMethod.KMeans, 4, 128, 0.15)]
    [InlineData(QuantMethod.Gptq, 4, 128, 0.12)]
    [InlineData(QuantMethod.Awq, 4, 128, 0.12)]
    public void EveryMethodWritesAModelOurEngineRunsCloseToTheFloatModel(QuantMethod method, int bits, int group, double maxError)
    {
        var model = ModelTensors.Load(TestModels.Random);
        var calibration = method is QuantMethod.Gptq or QuantMethod.Awq ? TestModels.RandomCalibration(ModelTensors.Load(TestModels.Random)) : null;
        string output = TestModels.Output($"q-{method}-{bits}-{group}.gguf");
        var result = ModelQuantizer.Run(model, new QuantizeOptions { Method = method, Bits = bits, Group = group }, calibration, output);
        Assert.False(result.LlamaCppCompatible);
        Assert.Equal(new FileInfo(output).Length, result.Bytes);
        Assert.Equal(GgmlType.Q8_0, result.Types["token_embd.weight"]);
        Assert.True(EdgeQuantTypes.IsEdgeType(result.Types["blk.0.ffn_up.weight"]));
        double err = RelativeError(OurLogits(output), OurLogits(TestModels.Random));
        Assert.True(err < maxError, $"{method}: relative logit error {err:F4}");
        Assert.InRange(result.BitsPerWeight, bits, bits + 4);
    }

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q6_K)]
    [InlineData(GgmlType.IQ4_NL)]
    public void GgmlOutputsLoadInLlamaCppAndAgreeWithOurEngine(GgmlType type)
    {
        var model = ModelTensors.Load(TestModels.Random);
        string output = TestModels.Output($"ggml-{type}.gguf");
        var result = ModelQuantizer.Run(model, new QuantizeOptions { Method = QuantMethod.Ggml, GgmlType = type }, null, output);
        Assert.True(result.LlamaCppCompatible);
        var ours = OurLogits(output);
        var theirs = LlamaCppRunner.Logits(output, Prompt);
        AssertAgrees(ours, theirs, type.ToString());
        double err = RelativeError(ours, OurLogits(TestModels.Random));
        Assert.True(err < 0.15, $"{type}: relative logit error vs float {err:F4}");
    }

    [Fact]
    public void GgmlWithCalibrationStaysLlamaCppCompatible()
    {
        var model = ModelTensors.Load(TestModels.Random);
        var calibration = TestModels.RandomCalibration(ModelTensors.Load(TestModels.Random));
        string output = TestModels.Output("ggml-imatrix-Q4_K.gguf");
        var result = ModelQuantizer.Run(model, new QuantizeOptions { Method = QuantMethod.Ggml, GgmlType = GgmlType.Q4_K }, calibration, output);
        Assert.True(result.LlamaCppCompatible);
        AssertAgrees(OurLogits(output), LlamaCppRunner.Logits(output, Prompt), "Q4_K with importance");
    }

    [Fact]
    public void TwoFourSparseMatricesAreStoredInTheSparseFormatUnlessDisabled()
    {
        var model = ModelTensors.Load(TestModels.Random);
        var up = model["blk.0.ffn_up.weight"];
        EdgeAgent.Compression.Pruning.ModelPruner.Unstructured(up, new EdgeAgent.Compression.Calibration.MagnitudeImportance(), EdgeAgent.Compression.Pruning.PrunePattern.TwoFour, 0.5);
        var sparse = ModelQuantizer.Run(model, new QuantizeOptions { Method = QuantMethod.Affine }, null, TestModels.Output("sparse.gguf"));
        Assert.Equal(EdgeQuantTypes.Id(EdgeQuantFamily.Sparse24, 4, 32), sparse.Types["blk.0.ffn_up.weight"]);
        Assert.Equal(EdgeQuantTypes.Id(EdgeQuantFamily.Affine, 4, 32), sparse.Types["blk.0.ffn_gate.weight"]);
        var dense = ModelQuantizer.Run(ModelTensors.Load(TestModels.Random), new QuantizeOptions { Method = QuantMethod.Affine, Sparse = false }, null, TestModels.Output("nosparse.gguf"));
        Assert.Equal(EdgeQuantTypes.Id(EdgeQuantFamily.Affine, 4, 32), dense.Types["blk.0.ffn_up.weight"]);
        Assert.True(sparse.Bytes < dense.Bytes);
        using var s = InferenceSession.Open(TestModels.Output("sparse.gguf"), 2, 32);
        Assert.All(s.Evaluate([1, 2, 3]), v => Assert.True(float.IsFinite(v)));
    }

    [Theory]
    [InlineData(QuantMethod.Gptq, 4, 32, "needs --calibration")]
    [InlineData(QuantMethod.Awq, 4, 32, "needs --calibration")]
    [InlineData(QuantMethod.Affine, 9, 32, "outside 2..8")]
    [InlineData(QuantMethod.Affine, 1, 32, "outside 2..8")]
    [InlineData(QuantMethod.NF4, 3, 32, "4-bit only")]
    [InlineData(QuantMethod.Log2, 6, 32, "supports --bits 2..4")]
    [InlineData(QuantMethod.Affine, 4, 48, "--group 48")]
    public void BadOptionsAreRefusedWithOneLine(QuantMethod method, int bits, int group, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => new QuantizeOptions { Method = method, Bits = bits, Group = group }.Validate(hasCalibration: false));
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void AnAlreadyQuantizedInputIsRefused()
    {
        string output = TestModels.Output("already.gguf");
        ModelQuantizer.Run(ModelTensors.Load(TestModels.Random), new QuantizeOptions { Method = QuantMethod.Ggml, GgmlType = GgmlType.Q8_0 }, null, output);
        var e = Assert.Throws<ArgumentException>(() => ModelTensors.Load(output));
        Assert.Contains("already quantized", e.Message);
    }

    [Fact]
    public void OnStoriesAffineBeatsLlamaCppsQ4_0AndEightBitIsNearlyLossless()
    {
        // In-distribution data: windows sampled from the model itself (its own tokenizer is not at hand).
        var tokens = ModelEvaluator.SampleTokens(TestModels.Stories, windows: 12, context: 128);
        var o = new EvalOptions { Context = 128, Threads = 2, DecodeTokens = 8 };
        var reference = ModelEvaluator.Evaluate(TestModels.Stories, tokens, null, o);
        EvalResult Run(QuantizeOptions opts, string name)
        {
            string output = TestModels.Output($"stories-{name}.gguf");
            ModelQuantizer.Run(ModelTensors.Load(TestModels.Stories), opts, null, output);
            var r = ModelEvaluator.Evaluate(output, tokens, TestModels.Stories, o);
            Assert.True(r.Bytes < new FileInfo(TestModels.Stories).Length && r.DecodeTokensPerSecond > 0);
            return r;
        }
        var q8 = Run(new QuantizeOptions { Method = QuantMethod.Affine, Bits = 8 }, "affine8");
        var q4 = Run(new QuantizeOptions { Method = QuantMethod.Affine, Bits = 4 }, "affine4");
        var ggml = Run(new QuantizeOptions { Method = QuantMethod.Ggml, GgmlType = GgmlType.Q4_0 }, "q4_0");
        Assert.True(q8.Perplexity < 1.08 * reference.Perplexity, $"8-bit perplexity {q8.Perplexity:F3} vs {reference.Perplexity:F3}");
        Assert.True(q8.KlDivergence < 0.06 && q8.Top1Agreement > 0.8, $"8-bit KL {q8.KlDivergence:G3}, top-1 {q8.Top1Agreement:F3}");
        // stories260K (dims 64) is very sensitive to 4 bits; affine with a zero point still beats Q4_0 at similar size.
        Assert.True(q4.KlDivergence < ggml.KlDivergence, $"affine4 KL {q4.KlDivergence:G3} vs Q4_0 {ggml.KlDivergence:G3}");
        Assert.True(q4.Perplexity > q8.Perplexity);
        Assert.InRange(q4.BitsPerWeight, 4, 9);
    }
}
