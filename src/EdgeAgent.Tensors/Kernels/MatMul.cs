using EdgeAgent.Tensors.Quants;
using EdgeAgent.Tensors.Threading;

namespace EdgeAgent.Tensors.Kernels;

/// <summary>
/// y = W·x for quantized W, the way ggml's CPU backend does it: each activation row is quantized once to the
/// weight type's <see cref="QuantTraits.VecDotType"/> (Q8_0, Q8_1, Q8_K, F16…), then every output element is
/// one <see cref="QuantTraits.VecDot"/> of a weight row with it. Rows are split across the compute pool; for a
/// batch of activation rows each weight row is reused across the batch while it is in cache.
/// Several matrices that read the same input (Q/K/V, gate/up) run as one job: the input is quantized once and
/// the pool is dispatched once. Q4_0 and Q8_0 weights on AVX-512 go through <see cref="LegacyGemm"/>'s tiles and K-quant batches through
/// <see cref="KQuantGemm"/>, both bit-identical to the row dots; Q4_0 and Q8_0 matrices repacked by
/// <see cref="PackedWeights"/> run <see cref="LegacyPacked"/>'s tiles on their packed copy, and Q4_K matrices it
/// interleaved run <see cref="Q4_KInterleaved"/> on activations permuted to match (bit-identical too).
/// One instance owns its scratch buffers and is used by one caller at a time; nothing is allocated per call
/// once the buffers have grown to the largest shape seen.
/// </summary>
public sealed unsafe class MatMul
{
    private const int MaxJobs = 3;

    private readonly ComputePool _pool;
    private byte[] _quantized = [];
    private byte[] _prepared = [];
    private byte[] _permuted = [];
    private bool _interleaved;
    private readonly RangeBody _rowsBody;
    private readonly RangeBody _quantizeBody;
    private readonly RangeBody _tokensBody;

    // Current job (read by _rowsBody on the pool threads): matrix j covers fused rows [_rowStart[j], _rowStart[j+1]).
    private readonly WeightMatrix[] _w = new WeightMatrix[MaxJobs];
    private readonly nint[] _y = new nint[MaxJobs];
    private readonly int[] _yStride = new int[MaxJobs];
    private readonly int[] _rowStart = new int[MaxJobs + 1];
    private int _jobs;
    private int _batch;
    private int _qStride;
    private int _prepStride;
    private bool _gemm;
    private QuantTraits? _dotType;
    private float* _x;

    public MatMul(ComputePool pool)
    {
        _pool = pool;
        _rowsBody = RunRows;
        _quantizeBody = QuantizeRows;
        _tokensBody = RunTokens;
    }

    /// <summary>Computes <c>y[b, r] = Σ_c W[r, c] · x[b, c]</c> for <paramref name="batch"/> activation rows.</summary>
    /// <param name="x">batch × W.Cols activations, row-major.</param>
    /// <param name="y">batch × <paramref name="yStride"/> outputs; the first W.Rows of each row are written.</param>
    public void Forward(in WeightMatrix w, ReadOnlySpan<float> x, Span<float> y, int batch, int yStride)
    {
        Check(w, x, y, batch, yStride);
        fixed (float* py = y)
        {
            _jobs = 0;
            Add(w, py, yStride);
            Run(x, batch);
        }
    }

    /// <summary>Single-row convenience: <c>y = W·x</c>.</summary>
    public void Forward(in WeightMatrix w, ReadOnlySpan<float> x, Span<float> y) => Forward(w, x, y, 1, w.Rows);

    /// <summary>Two products of the same input (gate and up): one quantization of x, one dispatch (one by one when
    /// the matrices differ in width or activation type).</summary>
    public void Forward(ReadOnlySpan<float> x, int batch, in WeightMatrix w0, Span<float> y0, int stride0, in WeightMatrix w1, Span<float> y1, int stride1)
    {
        if (!SameInput(w0, w1))
        {
            Forward(w0, x, y0, batch, stride0);
            Forward(w1, x, y1, batch, stride1);
            return;
        }
        Check(w0, x, y0, batch, stride0);
        Check(w1, x, y1, batch, stride1);
        fixed (float* p0 = y0)
        fixed (float* p1 = y1)
        {
            _jobs = 0;
            Add(w0, p0, stride0);
            Add(w1, p1, stride1);
            Run(x, batch);
        }
    }

    /// <summary>Three products of the same input (Q, K, V): one quantization of x, one dispatch (one by one when
    /// the matrices differ in width or activation type).</summary>
    public void Forward(
        ReadOnlySpan<float> x, int batch,
        in WeightMatrix w0, Span<float> y0, int stride0,
        in WeightMatrix w1, Span<float> y1, int stride1,
        in WeightMatrix w2, Span<float> y2, int stride2)
    {
        if (!SameInput(w0, w1) || !SameInput(w0, w2))
        {
            Forward(w0, x, y0, batch, stride0);
            Forward(w1, x, y1, batch, stride1);
            Forward(w2, x, y2, batch, stride2);
            return;
        }
        Check(w0, x, y0, batch, stride0);
        Check(w1, x, y1, batch, stride1);
        Check(w2, x, y2, batch, stride2);
        fixed (float* p0 = y0)
        fixed (float* p1 = y1)
        fixed (float* p2 = y2)
        {
            _jobs = 0;
            Add(w0, p0, stride0);
            Add(w1, p1, stride1);
            Add(w2, p2, stride2);
            Run(x, batch);
        }
    }

    private static void Check(in WeightMatrix w, ReadOnlySpan<float> x, Span<float> y, int batch, int yStride)
    {
        if (x.Length < batch * w.Cols || y.Length < (batch - 1) * yStride + w.Rows || yStride < w.Rows)
        {
            throw new ArgumentException("matmul buffers are too small for the shapes given");
        }
    }

    // Fusing needs one quantized input for all: the same width and activation type (else they run one by one).
    private static bool SameInput(in WeightMatrix a, in WeightMatrix b) => a.Cols == b.Cols && a.Traits.VecDotType == b.Traits.VecDotType;

    private void Add(in WeightMatrix w, float* y, int yStride)
    {
        _w[_jobs] = w;
        _y[_jobs] = (nint)y;
        _yStride[_jobs] = yStride;
        _rowStart[_jobs + 1] = _rowStart[_jobs] + w.Rows;
        _jobs++;
    }

    private void Run(ReadOnlySpan<float> x, int batch)
    {
        var w = _w[0];
        var dotType = QuantRegistry.Get(w.Traits.VecDotType);
        int qStride = w.Cols / dotType.BlockSize * dotType.TypeSize;
        if (_quantized.Length < qStride * batch)
        {
            _quantized = GC.AllocateUninitializedArray<byte>(qStride * batch, pinned: true);
        }
        _gemm = LegacyGemm.Supports(w.Type, w.Cols);
        for (int j = 1; j < _jobs; j++)
        {
            _gemm &= _w[j].Type == w.Type;
        }
        if (_gemm)
        {
            _prepStride = LegacyGemm.PreparedBytes(w.Cols);
            if (_prepared.Length < (_prepStride * batch) + 64)
            {
                _prepared = GC.AllocateUninitializedArray<byte>((_prepStride * batch) + 64, pinned: true);
            }
        }
        _interleaved = false;
        for (int j = 0; j < _jobs; j++)
        {
            _interleaved |= _w[j].Packed != null && _w[j].Type == GgmlType.Q4_K;
        }
        if (_interleaved && _permuted.Length < qStride * batch)
        {
            _permuted = GC.AllocateUninitializedArray<byte>(qStride * batch, pinned: true);
        }
        _batch = batch;
        _qStride = qStride;
        _dotType = dotType;
        int rows = _rowStart[_jobs];
        fixed (float* px = x)
        {
            _x = px;
            if (SplitByTokens(batch, rows))
            {
                // Prefill: each thread takes a share of the activation rows, quantizes them and computes every output
                // row for them, so the activations a core reads and the outputs it writes stay in its own cache.
                int share = (batch + _pool.ThreadCount - 1) / _pool.ThreadCount;
                _pool.For(batch, (share + 7) & ~7, _tokensBody);
                _x = null;
                return;
            }
            // Each activation row quantized once (and, for the tiles, made dot-ready once), shared by every row of
            // every fused matrix; a batch is spread over the pool (in prefill this was serial time on one core).
            if (batch > 1 && _pool.ThreadCount > 1)
            {
                _pool.For(batch, Math.Max(1, batch / (_pool.ThreadCount * 8)), _quantizeBody);
            }
            else
            {
                QuantizeRows(0, batch);
            }
            _x = null;
        }
        // A few chunks per thread so uneven progress balances out; multiples of 4 rows for the 4-row tiles. A batch
        // makes every row costly, so it gets finer chunks (less idle time at the job's end) of at least 16 rows.
        int grain = batch >= 4
            ? Math.Max(16, (rows / (_pool.ThreadCount * 16)) & ~3)
            : Math.Max(4, (rows / (_pool.ThreadCount * 4)) & ~3);
        _pool.For(rows, grain, _rowsBody);
    }

    /// <summary>
    /// Whether a batch runs split by activation rows (each thread: its rows against every weight row) rather than by
    /// weight rows (each thread: its weight rows against every activation row). Split by weight rows, every core reads
    /// every activation row and writes a slice of every output row, so the activations cross between the cores in
    /// every matmul and every per-token step after it; when the two cores sit far apart (a cache-line round trip of
    /// ~350 ns instead of ~90 on this machine at times) that traffic cost a quarter of the prefill. Split by
    /// activation rows, that traffic stays in each core's cache, but every thread reads all the weights. So the split
    /// is by activation rows when the weights are at most twice the activations and outputs the job moves: SmolLM2's
    /// and the 250M model's matrices, not TinyLlama's (docs/performance.md, stop 15).
    /// </summary>
    private bool SplitByTokens(int batch, int rows)
    {
        if (batch < 16 || _pool.ThreadCount < 2)
        {
            return false;
        }
        long weights = 0;
        for (int j = 0; j < _jobs; j++)
        {
            weights += (long)_w[j].Rows * _w[j].RowBytes;
        }
        long activations = (long)batch * (_w[0].Cols + rows) * sizeof(float);
        return weights <= 2 * activations;
    }

    /// <summary>Activation rows [start, end): quantized, then every row of every job against them.</summary>
    private void RunTokens(int start, int end)
    {
        QuantizeRows(start, end);
        for (int j = 0; j < _jobs; j++)
        {
            RunRows(j, 0, _w[j].Rows, start, end - start);
        }
    }

    private void QuantizeRows(int start, int end)
    {
        int cols = _w[0].Cols;
        fixed (byte* q = _quantized)
        {
            for (int b = start; b < end; b++)
            {
                _dotType!.Quantize(new ReadOnlySpan<float>(_x + ((long)b * cols), cols), new Span<byte>(q + ((long)b * _qStride), _qStride));
                if (_interleaved)
                {
                    fixed (byte* p = _permuted)
                    {
                        Q4_KInterleaved.PermuteActivation(q + ((long)b * _qStride), p + ((long)b * _qStride), cols / KQuantBlocks.QK);
                    }
                }
                if (_gemm)
                {
                    LegacyGemm.Prepare(_w[0].Type, q + ((long)b * _qStride), cols / 32, Aligned(_prepared) + ((long)b * _prepStride));
                }
            }
        }
    }

    /// <summary>The first 64-byte boundary in a pinned array (aligned vector loads of the prepared activations).</summary>
    private static byte* Aligned(byte[] pinned)
    {
        byte* p = (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(pinned));
        return (byte*)(((nint)p + 63) & ~(nint)63);
    }

    private void RunRows(int start, int end)
    {
        for (int j = 0; j < _jobs; j++)
        {
            int lo = Math.Max(start, _rowStart[j]), hi = Math.Min(end, _rowStart[j + 1]);
            if (lo < hi)
            {
                RunRows(j, lo - _rowStart[j], hi - _rowStart[j], 0, _batch);
            }
        }
    }

    private void RunRows(int job, int start, int end, int b0, int batch)
    {
        var w = _w[job];
        int qStride = _qStride, yStride = _yStride[job];
        float* y = (float*)_y[job] + ((long)b0 * yStride);
        if (_gemm)
        {
            byte* prep = Aligned(_prepared) + ((long)b0 * _prepStride);
            if (w.Packed != null)
            {
                // Packed groups of four rows; a range that does not start or end on a group runs its odd rows on the file layout.
                int lo = (start + LegacyPacked.GroupRows - 1) & ~(LegacyPacked.GroupRows - 1), hi = end & ~(LegacyPacked.GroupRows - 1);
                if (lo < hi)
                {
                    LegacyPacked.Run(w.Type, w.Packed, w.Rows, w.Cols, prep, _prepStride, batch, lo, hi, y, yStride);
                    LegacyGemm.Run(w.Type, w.Data, w.RowBytes, w.Cols / 32, prep, _prepStride, batch, start, lo, y, yStride);
                    LegacyGemm.Run(w.Type, w.Data, w.RowBytes, w.Cols / 32, prep, _prepStride, batch, hi, end, y, yStride);
                    return;
                }
            }
            LegacyGemm.Run(w.Type, w.Data, w.RowBytes, w.Cols / 32, prep, _prepStride, batch, start, end, y, yStride);
            return;
        }
        if (w.Packed != null && w.Type == GgmlType.Q4_K)
        {
            fixed (byte* p = _permuted)
            {
                Q4_KInterleaved.Run(w.Packed, w.RowBytes, w.Cols / KQuantBlocks.QK, p + ((long)b0 * qStride), qStride, batch, start, end, y, yStride);
            }
            return;
        }
        if (KQuantGemm.Supports(w.Type, batch))
        {
            fixed (byte* q8 = _quantized)
            {
                KQuantGemm.Run(w.Type, w.Data, w.RowBytes, w.Cols / 256, q8 + ((long)b0 * qStride), qStride, batch, start, end, y, yStride);
            }
            return;
        }
        var dot = w.Traits.VecDot ?? throw new NotSupportedException($"{w.Type} has no dot kernel");
        ReadOnlySpan<byte> q = _quantized.AsSpan(b0 * qStride);
        int cols = w.Cols;
        for (int r = start; r < end; r++)
        {
            var row = w.Row(r);
            for (int b = 0; b < batch; b++)
            {
                y[((long)b * yStride) + r] = dot(row, q.Slice(b * qStride, qStride), cols);
            }
        }
    }
}
