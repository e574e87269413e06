using System.Numerics;
using System.Numerics.Tensors;
using EdgeAgent.Training.Kernels;

namespace EdgeAgent.Training.Ops;

/// <summary>
/// Causal multi-head attention with grouped K/V heads (GQA: query head h reads kv head h / (H/K)), per sequence of
/// S tokens: P = softmax(Q·Kᵀ/√Hd + causal mask), O = P·V. Each head's products run through <see cref="Gemm.ABtSerial{T}"/>
/// on one thread; callers spread (sequence, head) items over the pool.
/// Shapes: q, dq (B·S, H·Hd); k, v, dk, dv (B·S, K·Hd); probs (B, H, S, S); o, dO (B·S, H·Hd).
/// </summary>
public static class CausalAttentionOp
{
    /// <summary>Rows per causal strip: a multiple of the GEMM's 4×4 tile and 8-wide vectors, so truncating a strip's
    /// columns or sum at the diagonal keeps every computed number bit-identical to the full product.</summary>
    private const int CausalStrip = 16;

    /// <summary>Forward for sequence <paramref name="b"/>, query head <paramref name="h"/>.</summary>
    public static void Forward<T>(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, Span<T> probs, Span<T> o,
        int b, int h, int seqLen, int heads, int kvHeads, int headDim)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int s = seqLen, hd = headDim, qd = heads * hd, kd = kvHeads * hd, kvh = h / (heads / kvHeads);
        var qh = q[(b * s * qd + h * hd)..];
        var kh = k[(b * s * kd + kvh * hd)..];
        var vh = v[(b * s * kd + kvh * hd)..];
        var p = probs.Slice((b * heads + h) * s * s, s * s);
        T scale = T.One / T.Sqrt(T.CreateChecked(hd));
        // scores = Q·Kᵀ                                                   (S, S)
        // Causal: a strip of rows [i0, i0+16) needs only keys 0..i0+15 (the skipped entries are masked below, and
        // the computed ones are bit-identical to a full product: same kernel, same order).
        for (int i0 = 0; i0 < s; i0 += CausalStrip)
        {
            int rows = Math.Min(CausalStrip, s - i0);
            Gemm.ABtSerial(qh[(i0 * qd)..], qd, kh, kd, p[(i0 * s)..], s, rows, i0 + rows, hd, accumulate: false);
        }
        // P = softmax(scores·scale, causal): row t sees positions 0..t
        for (int t = 0; t < s; t++)
        {
            var row = p.Slice(t * s, t + 1);
            TensorPrimitives.Multiply(row, scale, row);
            T max = TensorPrimitives.Max<T>(row);
            TensorPrimitives.Subtract(row, max, row);
            TensorPrimitives.Exp<T>(row, row);
            TensorPrimitives.Divide(row, TensorPrimitives.Sum<T>(row), row);
            p.Slice(t * s + t + 1, s - t - 1).Clear();
        }
        // O = P·V = P·(Vᵀ)ᵀ                                               (S, Hd)
        var vt = Scratch<T>.Get(0, hd * s);
        Transpose(vh, kd, vt, s, s, hd);
        // Row strip [i0, i0+16) of P is zero past column i0+15: the sum stops there (adding exact zeros changes nothing).
        var oh = o[(b * s * qd + h * hd)..];
        for (int i0 = 0; i0 < s; i0 += CausalStrip)
        {
            int rows = Math.Min(CausalStrip, s - i0);
            Gemm.ABtSerial<T>(p[(i0 * s)..], s, vt, s, oh[(i0 * qd)..], qd, rows, hd, i0 + rows, accumulate: false);
        }
    }

    /// <summary>
    /// Backward for sequence <paramref name="b"/> and kv head <paramref name="kvh"/>: writes dq of the heads in its
    /// group and dk, dv of the kv head (one item owns them all, so no two threads touch the same rows).
    /// </summary>
    public static void Backward<T>(ReadOnlySpan<T> dO, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        ReadOnlySpan<T> probs, Span<T> dq, Span<T> dk, Span<T> dv, int b, int kvh, int seqLen, int heads, int kvHeads, int headDim)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int s = seqLen, hd = headDim, qd = heads * hd, kd = kvHeads * hd, group = heads / kvHeads;
        T scale = T.One / T.Sqrt(T.CreateChecked(hd));
        var kh = k[(b * s * kd + kvh * hd)..];
        var vh = v[(b * s * kd + kvh * hd)..];
        var dkh = dk[(b * s * kd + kvh * hd)..];
        var dvh = dv[(b * s * kd + kvh * hd)..];
        var dS = Scratch<T>.Get(1, s * s);
        var tS = Scratch<T>.Get(2, s * s);
        var kt = Scratch<T>.Get(3, hd * s);
        var xt = Scratch<T>.Get(4, hd * s);
        Transpose(kh, kd, kt, s, s, hd);
        for (int i = 0; i < group; i++)
        {
            int h = kvh * group + i;
            var p = probs.Slice((b * heads + h) * s * s, s * s);
            var dOh = dO[(b * s * qd + h * hd)..];
            var qh = q[(b * s * qd + h * hd)..];
            bool first = i == 0;

            // forward: O = P·V   →   dV += Pᵀ·dO  (as (Pᵀ)·(dOᵀ)ᵀ),   dP = dO·Vᵀ
            Transpose<T>(p, s, tS, s, s, s);
            Transpose(dOh, qd, xt, s, s, hd);
            Gemm.ABtSerial<T>(tS, s, xt, s, dvh, kd, s, hd, s, accumulate: !first);
            for (int i0 = 0; i0 < s; i0 += CausalStrip)
            {
                int rows = Math.Min(CausalStrip, s - i0);
                Gemm.ABtSerial(dOh[(i0 * qd)..], qd, vh, kd, dS[(i0 * s)..], s, rows, i0 + rows, hd, accumulate: false);
            }

            // forward: P = softmax(scores·scale)   →   dscores = scale · P ⊙ (dP − Σ_p P⊙dP)   (masked entries: P = 0)
            for (int t = 0; t < s; t++)
            {
                var pr = p.Slice(t * s, t + 1);
                var dr = dS.Slice(t * s, t + 1);
                T dot = TensorPrimitives.Dot<T>(pr, dr);
                TensorPrimitives.Subtract(dr, dot, dr);
                TensorPrimitives.Multiply(dr, pr, dr);
                TensorPrimitives.Multiply(dr, scale, dr);
                dS.Slice(t * s + t + 1, s - t - 1).Clear();
            }

            // forward: scores = Q·Kᵀ   →   dQ = dscores·K = dscores·(Kᵀ)ᵀ,   dK += dscoresᵀ·Q
            var dqh = dq[(b * s * qd + h * hd)..];
            for (int i0 = 0; i0 < s; i0 += CausalStrip)
            {
                int rows = Math.Min(CausalStrip, s - i0);
                Gemm.ABtSerial<T>(dS[(i0 * s)..], s, kt, s, dqh[(i0 * qd)..], qd, rows, hd, i0 + rows, accumulate: false);
            }
            Transpose<T>(dS, s, tS, s, s, s);
            Transpose(qh, qd, xt, s, s, hd);
            Gemm.ABtSerial<T>(tS, s, xt, s, dkh, kd, s, hd, s, accumulate: !first);
        }
    }

    private static void Transpose<T>(ReadOnlySpan<T> src, int lds, Span<T> dst, int ldd, int rows, int cols) where T : unmanaged =>
        Gemm.TransposeSerial(src, lds, dst, ldd, rows, cols);

    /// <summary>Per-thread scratch buffers, grown once and then reused (no allocation per step after warm-up).</summary>
    private static class Scratch<T>
    {
        [ThreadStatic]
        private static T[]?[]? t_buffers;

        public static Span<T> Get(int slot, int length)
        {
            var buffers = t_buffers ??= new T[]?[5];
            var b = buffers[slot];
            if (b is null || b.Length < length)
            {
                buffers[slot] = b = new T[length];
            }
            return b.AsSpan(0, length);
        }
    }
}
