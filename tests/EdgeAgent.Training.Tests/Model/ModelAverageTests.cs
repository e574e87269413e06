using EdgeAgent.Inference.Tokenizers;
using EdgeAgent.Training.Model;
using EdgeAgent.Training.Tokenizers;

namespace EdgeAgent.Training.Tests.Model;

public sealed class ModelAverageTests : IDisposable
{
    private static readonly TokenizerVocab s_vocab =
        BpeTrainer.Train(["the lamp is on, the lamp is off, the gate is open"], BpeTrainer.MinVocabSize + 8).ToVocab();

    private readonly string _dir = Directory.CreateTempSubdirectory("edgeagent-average-tests").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ModelShape Shape(int dim = 16) =>
        new(Dim: dim, Layers: 2, Heads: 2, KvHeads: 1, FfnDim: 24, VocabSize: s_vocab.Tokens.Length, ContextLength: 32);

    private static (ModelShape, float[], TokenizerVocab) Random(ulong seed, ModelShape? shape = null)
    {
        var s = shape ?? Shape();
        var p = new float[new ParameterLayout(s).Count];
        var rng = new Rng(seed);
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = (float)rng.NextGaussian();
        }
        return (s, p, s_vocab);
    }

    [Fact]
    public void Every_parameter_is_the_weighted_mean()
    {
        var a = Random(1);
        var b = Random(2);
        var (shape, p, vocab) = ModelAverage.Average([a, b], [3, 1]);
        Assert.Equal(a.Item1, shape);
        Assert.Same(s_vocab, vocab);
        for (int i = 0; i < p.Length; i++)
        {
            Assert.Equal((float)(0.75 * a.Item2[i] + 0.25 * b.Item2[i]), p[i]);
        }
        Assert.Contains(p, x => x != a.Item2[0]);
    }

    [Fact]
    public void A_model_averaged_with_itself_is_itself_bit_for_bit()
    {
        var a = Random(3);
        var (_, p, _) = ModelAverage.Average([a, a, a], [0.6, 0.3, 0.1]);
        Assert.Equal(a.Item2, p);
    }

    [Fact]
    public void A_zero_weight_leaves_that_model_out()
    {
        var a = Random(4);
        var b = Random(5);
        Assert.Equal(b.Item2, ModelAverage.Average([a, b], [0, 2]).Parameters);
    }

    [Fact]
    public void Bad_inputs_are_one_line_errors()
    {
        var a = Random(6);
        Assert.Contains("another shape", Assert.Throws<ArgumentException>(() => ModelAverage.Average([a, Random(7, Shape(dim: 32))], [1, 1])).Message);
        var otherVocab = BpeTrainer.Train(["a different corpus entirely, with other merges"], BpeTrainer.MinVocabSize + 8).ToVocab();
        Assert.Contains("tokenizer", Assert.Throws<ArgumentException>(() => ModelAverage.Average([a, (a.Item1, a.Item2, otherVocab)], [1, 1])).Message);
        Assert.Contains("weight(s) for", Assert.Throws<ArgumentException>(() => ModelAverage.Average([a, a], [1])).Message);
        Assert.Throws<ArgumentException>(() => ModelAverage.Average([a, a], [1, -1]));
        Assert.Throws<ArgumentException>(() => ModelAverage.Average([a, a], [1, double.NaN]));
        Assert.Contains("sum to 0", Assert.Throws<ArgumentException>(() => ModelAverage.Average([a, a], [0, 0])).Message);
        Assert.Throws<ArgumentException>(() => ModelAverage.Average(new List<(ModelShape, float[], TokenizerVocab)>(), []));
    }

    [Fact]
    public void Files_are_read_and_the_average_round_trips_through_a_gguf()
    {
        var a = Random(8);
        var b = Random(9);
        var pa = Path.Combine(_dir, "a.gguf");
        var pb = Path.Combine(_dir, "b.gguf");
        var layout = new ParameterLayout(a.Item1);
        ModelFile.Write(pa, layout, a.Item2, s_vocab);
        ModelFile.Write(pb, layout, b.Item2, s_vocab);
        var avg = ModelAverage.Average([pa, pb], [1, 1]);
        var po = Path.Combine(_dir, "avg.gguf");
        ModelFile.Write(po, layout, avg.Parameters, avg.Vocab);
        var (shape, p, vocab) = ModelFile.Read(po);
        Assert.Equal(a.Item1, shape);
        Assert.Equal(s_vocab.Tokens, vocab.Tokens);
        Assert.Equal(ModelAverage.Average([a, b], [1, 1]).Parameters, p);
    }
}
