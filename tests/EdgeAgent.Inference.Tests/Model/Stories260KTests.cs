using EdgeAgent.Inference.Model;
using EdgeAgent.Tensors.Threading;

namespace EdgeAgent.Inference.Tests.Model;

public class Stories260KTests
{
    // Greedy continuation from BOS given by llama2.c's run.c (shared/README.md lists the first 16; the rest were
    // produced by the same reference and must agree for 32 steps).
    private static readonly int[] ReferencePrefix = [461, 461, 401, 401, 401, 461, 378, 455, 473, 456, 435, 299, 362, 409, 283, 264];

    [Fact]
    public void GreedyFromBosMatchesLlama2c()
    {
        using var model = LlamaModel.Load(TestData.Path("models", "stories260K.bin"));
        Assert.Equal(64, model.Config.Dim);
        Assert.Equal(5, model.Config.Layers);
        Assert.Equal(512, model.Config.VocabSize);
        using var pool = new ComputePool(2);
        var tf = new Transformer(model.Config, model.Weights, pool, model.Config.ContextLength);
        var cache = new KvCache(model.Config, model.Config.ContextLength);
        var logits = new float[model.Config.VocabSize];
        int token = 1;
        var generated = new List<int>();
        for (int i = 0; i < 32; i++)
        {
            tf.Forward([token], cache, logits);
            token = Array.IndexOf(logits, logits.Max());
            generated.Add(token);
        }
        Assert.Equal(ReferencePrefix, generated.Take(16));
    }
}
