using EdgeAgent.Tensors.Threading;

namespace EdgeAgent.Tensors.Tests.Threading;

public class ComputePoolStressTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void EveryItemRunsExactlyOnceAcrossManyJobs(int threads)
    {
        using var pool = new ComputePool(threads);
        var hits = new int[1000];
        var rng = new Random(5);
        for (int job = 0; job < 1000; job++)
        {
            int count = rng.Next(1, hits.Length), grain = rng.Next(1, 40);
            Array.Clear(hits);
            pool.For(count, grain, (s, e) =>
            {
                for (int i = s; i < e; i++)
                {
                    Interlocked.Increment(ref hits[i]);
                }
            });
            for (int i = 0; i < hits.Length; i++)
            {
                Assert.Equal(i < count ? 1 : 0, hits[i]);
            }
        }
    }

    [Fact]
    public void AWorkerNeverRunsAFinishedJobsBodyInTheNextJob()
    {
        // Alternating jobs whose bodies check that their own job is the live one. (A stress test: the race it
        // guards against, a worker re-reading the next job's ticket after its last chunk and running the previous
        // body on it, needs a preemption in a window of a few instructions and is not reliably reproduced.)
        // More threads than cores, so workers get preempted at arbitrary points.
        using var pool = new ComputePool(4);
        int live = -1, wrong = 0;
        RangeBody[] bodies = [Body(0), Body(1)];
        for (int job = 0; job < 50_000; job++)
        {
            Volatile.Write(ref live, job & 1);
            pool.For(4, 1, bodies[job & 1]);
            Volatile.Write(ref live, -1);
        }
        Assert.Equal(0, wrong);

        RangeBody Body(int id) => (_, _) =>
        {
            if (Volatile.Read(ref live) != id)
            {
                Interlocked.Increment(ref wrong);
            }
        };
    }

    [Fact]
    public void AnExceptionInABodyIsRethrownAndThePoolStaysUsable()
    {
        using var pool = new ComputePool(2);
        Assert.Throws<InvalidOperationException>(() => pool.For(100, 1, (s, _) =>
        {
            if (s == 57)
            {
                throw new InvalidOperationException("boom");
            }
        }));
        int total = 0;
        pool.For(100, 3, (s, e) => Interlocked.Add(ref total, e - s));
        Assert.Equal(100, total);
    }
}
