using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using EdgeAgent.Tensors.Kernels;
using EdgeAgent.Tensors.Quants;
using EdgeAgent.Tensors.Threading;

namespace EdgeAgent.Benchmarks;

/// <summary>One matmul of the TinyLlama FFN shape (5632 × 2048) per weight type: decode (1 row) and a prefill batch,
/// on the file layout and on the copy repacked at load as the engine runs it (Q4_0 and Q8_0 in 4-row runs, Q4_K
/// interleaved).</summary>
[MemoryDiagnoser]
public unsafe class MatMulBenchmarks
{
    private ComputePool _pool = null!;
    private MatMul _matmul = null!;
    private WeightMatrix _w;
    private byte* _data;
    private PackedWeights? _packing;
    private float[] _x = [];
    private float[] _y = [];

    [Params(GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K)]
    public GgmlType Type { get; set; }

    [Params(1, 32)]
    public int Batch { get; set; }

    [Params(false, true)]
    public bool Packed { get; set; }

    public int Rows { get; set; } = 5632;

    public int Cols { get; set; } = 2048;

    [GlobalSetup]
    public void Setup()
    {
        _pool = new ComputePool(2);
        _matmul = new MatMul(_pool);
        var traits = QuantRegistry.Get(Type);
        var rng = new Random(1);
        var row = new float[Cols];
        long rowBytes = Cols / traits.BlockSize * traits.TypeSize;
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)(rowBytes * Rows), 64);
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < Cols; c++)
            {
                row[c] = (2 * rng.NextSingle()) - 1;
            }
            traits.QuantizeReference(row, new Span<byte>(_data + (r * rowBytes), (int)rowBytes));
        }
        _w = new WeightMatrix(_data, Type, Rows, Cols);
        if (Packed)
        {
            _packing = new PackedWeights();
            _w = _packing.Pack(_w);
        }
        _x = new float[Batch * Cols];
        for (int i = 0; i < _x.Length; i++)
        {
            _x[i] = (2 * rng.NextSingle()) - 1;
        }
        _y = new float[Batch * Rows];
    }

    [Benchmark]
    public void Forward() => _matmul.Forward(_w, _x, _y, Batch, Rows);

    [GlobalCleanup]
    public void Cleanup()
    {
        _pool.Dispose();
        _packing?.Dispose();
        NativeMemory.AlignedFree(_data);
    }
}
