using EdgeAgent.Tensors.Kernels;
using EdgeAgent.Inference.Model;

namespace EdgeAgent.Inference.Tests.Model;

public sealed class KvCacheTests
{
    private static readonly ModelConfig Config = new()
    {
        Architecture = "llama", Dim = 32, Layers = 3, Heads = 4, KvHeads = 2, HeadDim = 8, FfnDim = 64, VocabSize = 16,
        ContextLength = 100, RmsEps = 1e-5f, RopeBase = 10000, RopeDim = 8, RopeStyle = RopeStyle.Normal,
    };

    private static KvCache Filled(int capacity, float offset)
    {
        var cache = new KvCache(Config, capacity);
        for (int l = 0; l < cache.Layers; l++)
        {
            for (int p = 0; p < capacity; p++)
            {
                var v = new float[cache.KvDim];
                for (int c = 0; c < v.Length; c++)
                {
                    cache.Key(l, p)[c] = offset + l * 100_000 + p * 100 + c;
                    v[c] = -(offset + l * 100_000 + p * 100 + c);
                }
                cache.StoreValue(l, p, v);
            }
        }
        return cache;
    }

    [Theory]
    [InlineData(0, 70)]
    [InlineData(13, 20)]
    [InlineData(60, 10)]
    [InlineData(5, 0)]
    public void CopyFrom_copies_exactly_the_positions_asked_for(int start, int count)
    {
        var source = Filled(70, 0.5f);
        var target = Filled(100, 0.25f);   // another capacity: another stride
        target.Length = 42;
        target.CopyFrom(source, start, count);
        Assert.Equal(42, target.Length);
        for (int l = 0; l < target.Layers; l++)
        {
            for (int p = 0; p < 70; p++)
            {
                var from = p >= start && p < start + count ? source : Filled(100, 0.25f);
                Assert.Equal(from.Key(l, p).ToArray(), target.Key(l, p).ToArray());
                for (int c = 0; c < target.KvDim; c++)
                {
                    Assert.Equal(from.ValueChannel(l, c)[p], target.ValueChannel(l, c)[p]);
                }
            }
        }
    }

    [Fact]
    public void CopyFrom_rejects_ranges_outside_either_cache_and_other_shapes()
    {
        var small = new KvCache(Config, 10);
        var large = new KvCache(Config, 100);
        Assert.Throws<ArgumentOutOfRangeException>(() => large.CopyFrom(small, 5, 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => small.CopyFrom(large, -1, 2));
        var other = new KvCache(Config with { KvHeads = 4 }, 10);
        Assert.Throws<ArgumentException>(() => other.CopyFrom(small, 0, 1));
    }
}
