using System.Runtime.ExceptionServices;

namespace EdgeAgent.Tensors.Threading;

/// <summary>Body of a parallel loop: processes the half-open range [start, end).</summary>
public delegate void RangeBody(int start, int end);

/// <summary>
/// A persistent pool of compute threads for row-parallel kernels. The calling thread takes part in every job;
/// workers spin briefly between jobs (a decode step dispatches hundreds of small jobs, too many to pay a
/// kernel wake-up for each) and then sleep. Work is handed out in chunks from an atomic ticket, so uneven
/// chunks balance themselves, and a job is complete when its items are done, not when every worker has checked
/// in: on a busy machine a descheduled or sleeping worker never holds up a job it has not joined (the caller
/// simply does those chunks). One job runs at a time; <see cref="For"/> is not re-entrant.
/// </summary>
/// <remarks>
/// The ticket packs the job's generation (high 32 bits) with the next item (low 32 bits). A worker reads the
/// ticket, then the job fields, then claims a chunk with a compare-exchange that expects the same generation and
/// an unfinished job; the caller marks a finished job with <see cref="Closed"/> before it rewrites the fields, so
/// a claim that succeeds always belongs to the fields that were read.
/// </remarks>
public sealed class ComputePool : IDisposable
{
    private const int SpinIterations = 20_000;
    private const int Closed = 1 << 30;

    private readonly Thread[] _workers;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly object _submitLock = new();
    private int _sleepers;
    private int _generation;
    private volatile bool _disposed;

    // The current job.
    private RangeBody? _body;
    private int _count;
    private int _grain;
    private long _ticket;
    private int _done;
    private ExceptionDispatchInfo? _error;

    /// <summary>Creates a pool running jobs on <paramref name="threads"/> threads (the caller counts as one).</summary>
    public ComputePool(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ThreadCount = threads;
        _workers = new Thread[threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"edgeagent-compute-{i + 1}" };
            _workers[i].Start();
        }
    }

    /// <summary>Threads that run each job, the caller included.</summary>
    public int ThreadCount { get; }

    /// <summary>Runs <paramref name="body"/> over [0, <paramref name="count"/>) in chunks of about
    /// <paramref name="grain"/> items, on all pool threads, and returns when every chunk is done.</summary>
    public void For(int count, int grain, RangeBody body)
    {
        if (count <= 0)
        {
            return;
        }
        grain = Math.Max(1, grain);
        if (_workers.Length == 0 || count <= grain)
        {
            body(0, count);
            return;
        }
        if (count >= Closed)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "too many items for one job");
        }
        lock (_submitLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _body = body;
            _count = count;
            _grain = grain;
            _error = null;
            Volatile.Write(ref _done, 0);
            int generation = _generation + 1;
            Interlocked.Exchange(ref _ticket, (long)generation << 32);
            Volatile.Write(ref _generation, generation);
            int sleepers = Interlocked.Exchange(ref _sleepers, 0);
            if (sleepers > 0)
            {
                _wake.Release(sleepers);
            }
            Work();
            var spin = new SpinWait();
            while (Volatile.Read(ref _done) < count)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
            // No claim can succeed from here on, so the fields may be rewritten by the next job.
            Interlocked.Exchange(ref _ticket, ((long)generation << 32) | Closed);
            _body = null;
            _error?.Throw();
        }
    }

    private void Work()
    {
        long ticket = Volatile.Read(ref _ticket);
        if ((int)ticket >= Closed)
        {
            return;
        }
        var body = _body;
        int count = _count, grain = _grain;
        if (body is null)
        {
            return;
        }
        while (true)
        {
            int start = (int)ticket;
            if (start >= count || start >= Closed)
            {
                return;
            }
            long seen = Interlocked.CompareExchange(ref _ticket, ticket + grain, ticket);
            if (seen != ticket)
            {
                if (seen >> 32 != ticket >> 32)
                {
                    return; // another job: the fields read belong to an older one
                }
                ticket = seen;
                continue;
            }
            int end = Math.Min(count, start + grain);
            try
            {
                body(start, end);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
            }
            Interlocked.Add(ref _done, end - start);
            long next = Volatile.Read(ref _ticket);
            if (next >> 32 != ticket >> 32)
            {
                return; // the job finished and another began: body, count and grain are stale
            }
            ticket = next;
        }
    }

    private void WorkerLoop()
    {
        int seen = 0;
        while (true)
        {
            int spins = 0;
            while (Volatile.Read(ref _generation) == seen && !_disposed)
            {
                if (++spins < SpinIterations)
                {
                    Thread.SpinWait(20);
                    continue;
                }
                Interlocked.Increment(ref _sleepers);
                if (Volatile.Read(ref _generation) == seen && !_disposed)
                {
                    _wake.Wait();
                }
                spins = 0;
            }
            if (_disposed)
            {
                return;
            }
            seen = Volatile.Read(ref _generation);
            Work();
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _wake.Release(_workers.Length + 1);
        foreach (var w in _workers)
        {
            w.Join();
        }
        _wake.Dispose();
    }
}
