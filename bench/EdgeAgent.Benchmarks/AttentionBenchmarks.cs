using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using EdgeAgent.Tensors.Kernels;

namespace EdgeAgent.Benchmarks;

/// <summary>One attention head of a decode step (head size 64, grouped K rows of 4 kv heads, V stored transposed), its
/// q·k scores and softmax-weighted V sums, one dot at a time (llama.cpp's order) and sixteen at a time
/// (<see cref="AttentionDots"/>, bit-identical), at a short and a long context.</summary>
[MemoryDiagnoser]
public unsafe class AttentionBenchmarks
{
    private const int HeadDim = 64;
    private const int KvDim = 4 * HeadDim;
    private float* _q, _keys, _values, _scores, _dots, _out;
    private int _stride;

    [Params(192, 1024)]
    public int Positions { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(3);
        _stride = (Positions + 63) & ~63;
        _q = Alloc(HeadDim, rng);
        _keys = Alloc(Positions * KvDim, rng);
        _values = Alloc(HeadDim * _stride, rng);
        _scores = Alloc(_stride, rng);
        _dots = Alloc(_stride, rng);
        _out = Alloc(HeadDim, rng);
        for (int p = 0; p < _stride; p++)
        {
            _scores[p] = p < Positions ? 1f / Positions : 0f;
        }
    }

    private static float* Alloc(int n, Random rng)
    {
        var p = (float*)NativeMemory.AlignedAlloc((nuint)(n * sizeof(float)), 64);
        for (int i = 0; i < n; i++)
        {
            p[i] = (2 * rng.NextSingle()) - 1;
        }
        return p;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var p in new[] { _q, _keys, _values, _scores, _dots, _out })
        {
            NativeMemory.AlignedFree(p);
        }
    }

    [Benchmark(Baseline = true)]
    public float OneAtATime()
    {
        var q = new ReadOnlySpan<float>(_q, HeadDim);
        for (int p = 0; p < Positions; p++)
        {
            _dots[p] = GgmlDot.DotGgml(q, new ReadOnlySpan<float>(_keys + (p * KvDim) + HeadDim, HeadDim));
        }
        var w = new ReadOnlySpan<float>(_scores, _stride);
        for (int d = 0; d < HeadDim; d++)
        {
            _out[d] = AttentionDots.WeightedSum(new ReadOnlySpan<float>(_values + (d * _stride), _stride), w, Positions, _stride);
        }
        return _dots[0] + _out[0];
    }

    [Benchmark]
    public float SixteenAtATime()
    {
        AttentionDots.Scores(_q, _keys + HeadDim, KvDim, HeadDim, Positions, 1f, _dots);
        AttentionDots.WeightedSums(_values, _stride, HeadDim, _scores, Positions, _stride, _out);
        return _dots[0] + _out[0];
    }
}
