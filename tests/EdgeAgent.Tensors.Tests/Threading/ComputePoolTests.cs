using EdgeAgent.Tensors.Threading;

namespace EdgeAgent.Tensors.Tests.Threading;

public class ComputePoolTests
{
    [Theory]
    [InlineData(1, 1000, 7)]
    [InlineData(2, 1000, 7)]
    [InlineData(3, 5, 1)]
    [InlineData(2, 1, 1)]
    [InlineData(4, 10_000, 64)]
    public void EveryIndexIsVisitedExactlyOnce(int threads, int count, int grain)
    {
        using var pool = new ComputePool(threads);
        for (int round = 0; round < 50; round++)
        {
            var hits = new int[count];
            pool.For(count, grain, (start, end) =>
            {
                for (int i = start; i < end; i++)
                {
                    Interlocked.Increment(ref hits[i]);
                }
            });
            Assert.All(hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void WorkIsSharedBetweenThreads()
    {
        using var pool = new ComputePool(2);
        var threadIds = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
        using var bothArrived = new Barrier(2);
        // Two chunks that each wait for the other: only completes if two threads run them at once.
        pool.For(2, 1, (start, end) =>
        {
            threadIds[Environment.CurrentManagedThreadId] = true;
            Assert.True(bothArrived.SignalAndWait(TimeSpan.FromSeconds(30)), "the second thread never took a chunk");
        });
        Assert.Equal(2, threadIds.Count);
    }

    [Fact]
    public void AnExceptionInAChunkReachesTheCallerAndThePoolStaysUsable()
    {
        using var pool = new ComputePool(2);
        var e = Assert.Throws<InvalidOperationException>(() => pool.For(100, 1, (start, end) =>
        {
            if (start == 37)
            {
                throw new InvalidOperationException("boom");
            }
        }));
        Assert.Equal("boom", e.Message);
        int sum = 0;
        pool.For(10, 1, (s, t) => Interlocked.Add(ref sum, t - s));
        Assert.Equal(10, sum);
    }

    [Fact]
    public void EmptyRangesDoNothingAndDisposedPoolsRefuseWork()
    {
        var pool = new ComputePool(2);
        bool called = false;
        pool.For(0, 1, (_, _) => called = true);
        Assert.False(called);
        pool.Dispose();
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pool.For(100, 1, (_, _) => { }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ComputePool(0));
    }
}
