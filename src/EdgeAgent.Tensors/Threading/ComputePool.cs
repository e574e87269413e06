using System.Runtime.ExceptionServices;

namespace EdgeAgent.Tensors.Threading;

/// <summary>Body of a parallel loop: processes the half-open range [start, end).</summary>
public delegate void RangeBody(int start, int end);

/// <summary>
/// A persistent pool of compute threads for row-parallel kernels. The calling thread takes part in every job;
/// workers spin briefly between jobs (a decode step dispatches hundreds of small jobs, too many to pay a
/// kernel wake-up for each) and then sleep. Work is handed out in chunks from an atomic counter, so uneven
/// chunks balance themselves. One job runs at a time; <see cref="For"/> is not re-entrant.
/// </summary>
public sealed class ComputePool : IDisposable
{
    private const int SpinIterations = 20_000;

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
    private int _next;
    private int _pending;
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
        lock (_submitLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _body = body;
            _count = count;
            _grain = grain;
            _error = null;
            Volatile.Write(ref _next, 0);
            Volatile.Write(ref _pending, _workers.Length + 1);
            Interlocked.Increment(ref _generation);
            int sleepers = Interlocked.Exchange(ref _sleepers, 0);
            if (sleepers > 0)
            {
                _wake.Release(sleepers);
            }
            Work();
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) != 0)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
            _body = null;
            _error?.Throw();
        }
    }

    private void Work()
    {
        try
        {
            var body = _body!;
            int count = _count, grain = _grain;
            while (true)
            {
                int start = Interlocked.Add(ref _next, grain) - grain;
                if (start >= count)
                {
                    break;
                }
                body(start, Math.Min(count, start + grain));
            }
        }
        catch (Exception e)
        {
            _error ??= ExceptionDispatchInfo.Capture(e);
            Volatile.Write(ref _next, int.MaxValue / 2);
        }
        finally
        {
            Interlocked.Decrement(ref _pending);
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
