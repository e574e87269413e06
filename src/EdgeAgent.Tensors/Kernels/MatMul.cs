using System.Runtime.InteropServices;
using EdgeAgent.Tensors.Quants;
using EdgeAgent.Tensors.Threading;

namespace EdgeAgent.Tensors.Kernels;

/// <summary>
/// y = W·x for quantized W, the way ggml's CPU backend does it: each activation row is quantized once to the
/// weight type's <see cref="QuantTraits.VecDotType"/> (Q8_0, Q8_1, Q8_K, F16…), then every output element is
/// one <see cref="QuantTraits.VecDot"/> of a weight row with it. Rows are split across the compute pool; for a
/// batch of activation rows each weight row is reused across the batch while it is in cache.
/// One instance owns its scratch buffers and is used by one caller at a time; nothing is allocated per call
/// once the buffers have grown to the largest shape seen.
/// </summary>
public sealed unsafe class MatMul
{
    private readonly ComputePool _pool;
    private byte[] _quantized = [];
    private readonly RangeBody _rowsBody;

    // Current job (read by _rowsBody on the pool threads).
    private WeightMatrix _w;
    private float* _y;
    private int _batch;
    private int _yStride;
    private int _qStride;

    public MatMul(ComputePool pool)
    {
        _pool = pool;
        _rowsBody = RunRows;
    }

    /// <summary>Computes <c>y[b, r] = Σ_c W[r, c] · x[b, c]</c> for <paramref name="batch"/> activation rows.</summary>
    /// <param name="x">batch × W.Cols activations, row-major.</param>
    /// <param name="y">batch × <paramref name="yStride"/> outputs; the first W.Rows of each row are written.</param>
    public void Forward(in WeightMatrix w, ReadOnlySpan<float> x, Span<float> y, int batch, int yStride)
    {
        if (x.Length < batch * w.Cols || y.Length < (batch - 1) * yStride + w.Rows || yStride < w.Rows)
        {
            throw new ArgumentException("matmul buffers are too small for the shapes given");
        }
        var dotType = QuantRegistry.Get(w.Traits.VecDotType);
        int qStride = w.Cols / dotType.BlockSize * dotType.TypeSize;
        if (_quantized.Length < qStride * batch)
        {
            _quantized = GC.AllocateUninitializedArray<byte>(qStride * batch, pinned: true);
        }
        for (int b = 0; b < batch; b++)
        {
            dotType.Quantize(x.Slice(b * w.Cols, w.Cols), _quantized.AsSpan(b * qStride, qStride));
        }
        fixed (float* py = y)
        {
            _w = w;
            _y = py;
            _batch = batch;
            _yStride = yStride;
            _qStride = qStride;
            // Aim for a few chunks per thread so uneven progress balances out.
            int grain = Math.Max(1, w.Rows / (_pool.ThreadCount * 4));
            _pool.For(w.Rows, grain, _rowsBody);
            _y = null;
        }
    }

    /// <summary>Single-row convenience: <c>y = W·x</c>.</summary>
    public void Forward(in WeightMatrix w, ReadOnlySpan<float> x, Span<float> y) => Forward(w, x, y, 1, w.Rows);

    private void RunRows(int start, int end)
    {
        var w = _w;
        var dot = w.Traits.VecDot ?? throw new NotSupportedException($"{w.Type} has no dot kernel");
        ReadOnlySpan<byte> q = _quantized;
        int cols = w.Cols, batch = _batch, qStride = _qStride, yStride = _yStride;
        float* y = _y;
        for (int r = start; r < end; r++)
        {
            var row = w.Row(r);
            for (int b = 0; b < batch; b++)
            {
                y[(long)b * yStride + r] = dot(row, q.Slice(b * qStride, qStride), cols);
            }
        }
    }
}
