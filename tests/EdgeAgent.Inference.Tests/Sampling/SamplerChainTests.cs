using EdgeAgent.Inference.Sampling;

namespace EdgeAgent.Inference.Tests.Sampling;

public class SamplerChainTests
{
    private static float[] Logits(params float[] values) => values;

    [Fact]
    public void GreedyPicksTheArgmaxLowestIndexOnTies()
    {
        var s = new SamplerChain(SamplingOptions.Greedy, 5);
        Assert.Equal(3, s.Sample(Logits(0, 1, 2, 5, 5)));
    }

    [Fact]
    public void SamplingIsReproducibleForASeedAndDiffersAcrossSeeds()
    {
        int[] Draw(ulong seed)
        {
            var s = new SamplerChain(new SamplingOptions { Temperature = 1, TopK = 0, TopP = 1, MinP = 0, Seed = seed }, 8);
            return Enumerable.Range(0, 200).Select(_ => s.Sample(Logits(1, 1, 1, 1, 1, 1, 1, 1))).ToArray();
        }
        Assert.Equal(Draw(7), Draw(7));
        Assert.NotEqual(Draw(7), Draw(8));
    }

    [Fact]
    public void TemperatureOneFollowsTheSoftmaxDistribution()
    {
        var logits = new[] { 0f, MathF.Log(2), MathF.Log(3), MathF.Log(4) }; // probabilities 0.1, 0.2, 0.3, 0.4
        var s = new SamplerChain(new SamplingOptions { Temperature = 1, TopK = 0, TopP = 1, MinP = 0, Seed = 3 }, 4);
        var counts = new int[4];
        const int N = 40_000;
        for (int i = 0; i < N; i++)
        {
            counts[s.Sample((float[])logits.Clone())]++;
        }
        for (int k = 0; k < 4; k++)
        {
            // 5 standard deviations of a binomial proportion.
            double p = (k + 1) / 10.0;
            Assert.InRange(counts[k] / (double)N, p - 5 * Math.Sqrt(p * (1 - p) / N), p + 5 * Math.Sqrt(p * (1 - p) / N));
        }
    }

    [Fact]
    public void TopKKeepsOnlyTheKBest()
    {
        var s = new SamplerChain(new SamplingOptions { Temperature = 5, TopK = 2, TopP = 1, MinP = 0, Seed = 1 }, 5);
        var seen = Enumerable.Range(0, 500).Select(_ => s.Sample(Logits(3, 0, 2.9f, 1, 2))).Distinct().Order().ToArray();
        Assert.Equal(new[] { 0, 2 }, seen);
    }

    [Fact]
    public void TopPKeepsTheSmallestSetReachingP()
    {
        // Probabilities ≈ 0.64, 0.24, 0.09, 0.03: p = 0.8 needs the first two.
        var logits = new[] { 3f, 2f, 1f, 0f };
        var s = new SamplerChain(new SamplingOptions { Temperature = 1, TopK = 0, TopP = 0.8f, MinP = 0, Seed = 5 }, 4);
        var seen = Enumerable.Range(0, 2000).Select(_ => s.Sample((float[])logits.Clone())).Distinct().Order().ToArray();
        Assert.Equal(new[] { 0, 1 }, seen);
    }

    [Fact]
    public void MinPDropsTokensBelowTheFractionOfTheTop()
    {
        // p1/p0 = e^-1 ≈ 0.37 stays with min_p 0.3; p2/p0 = e^-3 ≈ 0.05 goes.
        var logits = new[] { 3f, 2f, 0f };
        var s = new SamplerChain(new SamplingOptions { Temperature = 1, TopK = 0, TopP = 1, MinP = 0.3f, Seed = 9 }, 3);
        var seen = Enumerable.Range(0, 2000).Select(_ => s.Sample((float[])logits.Clone())).Distinct().Order().ToArray();
        Assert.Equal(new[] { 0, 1 }, seen);
    }

    [Fact]
    public void RepeatPenaltyDividesPositiveAndMultipliesNegativeLogitsOfRecentTokens()
    {
        var s = new SamplerChain(new SamplingOptions { Temperature = 0, RepeatPenalty = 2f, RepeatLastN = 4 }, 4);
        s.Accept(0);
        s.Accept(2);
        s.Accept(2);
        var logits = Logits(4, 3, -1, 1);
        Assert.Equal(1, s.Sample(logits)); // 4 → 2, so token 1 (3) wins
        Assert.Equal(new[] { 2f, 3f, -2f, 1f }, logits);
    }

    [Fact]
    public void AMaskRestrictsTheChoice()
    {
        var s = new SamplerChain(SamplingOptions.Greedy, 4) { Mask = new OnlyOdd() };
        Assert.Equal(3, s.Sample(Logits(9, 1, 8, 2)));
    }

    [Theory]
    [InlineData(-0.1f, 0.9f, 0.05f, 1f)]
    [InlineData(0.8f, 0f, 0.05f, 1f)]
    [InlineData(0.8f, 1.5f, 0.05f, 1f)]
    [InlineData(0.8f, 0.9f, -0.1f, 1f)]
    [InlineData(0.8f, 0.9f, 0.05f, 0f)]
    [InlineData(float.NaN, 0.9f, 0.05f, 1f)]
    public void InvalidSettingsAreRejected(float temperature, float topP, float minP, float penalty)
    {
        Assert.Throws<ArgumentException>(() => new SamplerChain(new SamplingOptions { Temperature = temperature, TopP = topP, MinP = minP, RepeatPenalty = penalty }, 4));
    }

    private sealed class OnlyOdd : ITokenMask
    {
        public void Apply(Span<float> logits)
        {
            for (int i = 0; i < logits.Length; i += 2)
            {
                logits[i] = float.NegativeInfinity;
            }
        }

        public void Accept(int token)
        {
        }
    }
}
