using EdgeAgent.Compression.Calibration;
using EdgeAgent.Compression.Model;
using EdgeAgent.Compression.Quantization;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Compression.Tests.Quantization;

/// <summary>The per-layer quantizers against round-to-nearest on one random layer with calibration activations.</summary>
public class LayerQuantizerTests
{
    private const int Rows = 64, Cols = 256;

    private static (FloatTensor W, InputStatistics Stats, float[] X) Layer(int seed)
    {
        var w = new FloatTensor("blk.0.ffn_up.weight", [Cols, Rows], TestModels.Gaussian(Rows * Cols, seed, 0.05f));
        var x = TestModels.Activations(512, Cols, seed + 10);
        var stats = new InputStatistics(Cols, hessian: true, maxSamples: 128);
        stats.Add(x, 512);
        return (w, stats, x);
    }

    private static float[] Dequantize(byte[] bytes, GgmlType type, int rows, int cols)
    {
        var t = QuantRegistry.Get(type);
        var y = new float[rows * cols];
        int rowBytes = cols / t.BlockSize * t.TypeSize;
        for (int r = 0; r < rows; r++)
        {
            t.Dequantize(bytes.AsSpan(r * rowBytes, rowBytes), y.AsSpan(r * cols, cols));
        }
        return y;
    }

    [Theory]
    [InlineData(EdgeQuantFamily.Affine, 3, 32)]
    [InlineData(EdgeQuantFamily.Affine, 4, 128)]
    [InlineData(EdgeQuantFamily.Symmetric, 4, 32)]
    [InlineData(EdgeQuantFamily.NF4, 4, 64)]
    public void GptqBeatsRoundToNearestOnTheLayerOutput(EdgeQuantFamily family, int bits, int group)
    {
        var (w, stats, x) = Layer(1);
        var f = CodeBlockFormat.Get(family, bits, group);
        var rtn = Dequantize(GroupQuantizer.Encode(w, f, null, clipSearch: false), f.Type, Rows, Cols);
        var gptq = Dequantize(Gptq.Encode(w, stats, f, new GptqOptions()), f.Type, Rows, Cols);
        var gptqNoOrder = Dequantize(Gptq.Encode(w, stats, f, new GptqOptions { ActOrder = false, BlockSize = 32 }), f.Type, Rows, Cols);
        double eRtn = TestModels.OutputError(w.Data, rtn, Rows, Cols, x);
        double eGptq = TestModels.OutputError(w.Data, gptq, Rows, Cols, x);
        double eNoOrder = TestModels.OutputError(w.Data, gptqNoOrder, Rows, Cols, x);
        Assert.True(eGptq < 0.8 * eRtn, $"GPTQ {eGptq:G4} vs RTN {eRtn:G4}");
        Assert.True(eNoOrder < 0.9 * eRtn, $"GPTQ without act-order {eNoOrder:G4} vs RTN {eRtn:G4}");
    }

    [Fact]
    public void CholeskyOfTheInverseReconstructsTheInverse()
    {
        int n = 5;
        var a = TestModels.Gaussian(n * n, 4);
        var h = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                for (int k = 0; k < n; k++)
                {
                    h[(i * n) + j] += a[(i * n) + k] * (double)a[(j * n) + k];
                }
            }
            h[(i * n) + i] += 0.1;
        }
        var u = Gptq.UpperCholeskyOfInverse(h, n, 0);
        // (Uᵀ·U)·H = I
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++)
                {
                    double inv = 0;
                    for (int m = 0; m < n; m++)
                    {
                        inv += u[(m * n) + i] * u[(m * n) + k];
                    }
                    s += inv * h[(k * n) + j];
                }
                Assert.Equal(i == j ? 1.0 : 0.0, s, 1e-8);
            }
        }
    }

    [Fact]
    public void ImportanceWeightedClipSearchLowersTheOutputError()
    {
        var (w, stats, x) = Layer(2);
        var f = CodeBlockFormat.Get(EdgeQuantFamily.Affine, 3, 32);
        var plain = Dequantize(GroupQuantizer.Encode(w, f, null, clipSearch: false), f.Type, Rows, Cols);
        var searched = Dequantize(GroupQuantizer.Encode(w, f, stats.MeanSquares(), clipSearch: true), f.Type, Rows, Cols);
        Assert.True(TestModels.OutputError(w.Data, searched, Rows, Cols, x) < 0.95 * TestModels.OutputError(w.Data, plain, Rows, Cols, x));
    }

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.IQ4_NL)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q6_K)]
    public void GgmlImportanceSearchNeverLosesToTheReferenceQuantizer(GgmlType type)
    {
        var (w, stats, x) = Layer(3);
        var imp = stats.MeanSquares();
        var reference = Dequantize(ModelTensors.EncodeReference(w, type), type, Rows, Cols);
        var weighted = Dequantize(GgmlQuantizer.Encode(w, type, imp), type, Rows, Cols);
        double WeightedError(float[] q)
        {
            double e = 0;
            for (int i = 0; i < q.Length; i++)
            {
                e += imp[i % Cols] * (w.Data[i] - q[i]) * (double)(w.Data[i] - q[i]);
            }
            return e;
        }
        Assert.True(WeightedError(weighted) <= WeightedError(reference));
        // The diagonal weighting is what the search optimises; the full output error follows it closely.
        Assert.True(TestModels.OutputError(w.Data, weighted, Rows, Cols, x) < 1.02 * TestModels.OutputError(w.Data, reference, Rows, Cols, x));
    }

    [Fact]
    public void KMeansWithActivationWeightsBeatsUnweightedKMeansOnTheOutput()
    {
        var (w, stats, x) = Layer(4);
        var f = CodeBlockFormat.Get(EdgeQuantFamily.KMeans, 3, 64);
        var plain = Dequantize(GroupQuantizer.Encode(w, f, null, false), f.Type, Rows, Cols);
        var weighted = Dequantize(GroupQuantizer.Encode(w, f, stats.MeanSquares(), false), f.Type, Rows, Cols);
        Assert.True(TestModels.OutputError(w.Data, weighted, Rows, Cols, x) < TestModels.OutputError(w.Data, plain, Rows, Cols, x));
    }

    [Fact]
    public void AwqScalesNeverIncreaseTheSearchedOutputError()
    {
        var (w, stats, _) = Layer(5);
        var f = CodeBlockFormat.Get(EdgeQuantFamily.Affine, 3, 32);
        var ones = Enumerable.Repeat(1f, Cols).ToArray();
        var meanAbs = stats.MeanAbs();
        double best = double.MaxValue;
        foreach (float alpha in new[] { 0.25f, 0.5f, 0.75f })
        {
            var s = meanAbs.Select(v => MathF.Pow(v, alpha)).ToArray();
            float norm = MathF.Sqrt(s.Max() * s.Min());
            best = Math.Min(best, Awq.OutputError(w, s.Select(v => v / norm).ToArray(), f, stats.Samples));
        }
        Assert.True(best < Awq.OutputError(w, ones, f, stats.Samples), "activation-aware scales should help on outlier channels");
    }
}
