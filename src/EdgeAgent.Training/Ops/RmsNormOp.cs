using System.Numerics;
using System.Numerics.Tensors;

namespace EdgeAgent.Training.Ops;

/// <summary>RMSNorm over rows of D: y = x · rstd · w with rstd = 1/√(mean(x²) + ε) (llama's <c>attn_norm</c>,
/// <c>ffn_norm</c>, <c>output_norm</c>).</summary>
public static class RmsNormOp
{
    /// <summary>Normalises <paramref name="rows"/> rows; saves each row's rstd for the backward pass.</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> y, Span<T> rstd, int rows, int d, T eps)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T invD = T.One / T.CreateChecked(d);
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * d, d);
            var yr = y.Slice(r * d, d);
            // rstd = 1/√(Σx²/D + ε)
            T s = T.One / T.Sqrt(TensorPrimitives.SumOfSquares(xr) * invD + eps);
            rstd[r] = s;
            // y = x · rstd · w
            TensorPrimitives.Multiply(xr, s, yr);
            TensorPrimitives.Multiply(yr, w, yr);
        }
    }

    /// <summary>Adds the gradients of the inputs to <paramref name="dx"/> and of the weight to <paramref name="dw"/>.</summary>
    public static void Backward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> rstd,
        Span<T> dx, Span<T> dw, Span<T> scratch, int rows, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T invD = T.One / T.CreateChecked(d);
        var g = scratch[..d];
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * d, d);
            var dyr = dy.Slice(r * d, d);
            var dxr = dx.Slice(r * d, d);
            T s = rstd[r];
            // forward: y = x · rstd · w   →   dw += dy · x · rstd
            TensorPrimitives.Multiply(dyr, xr, g);
            TensorPrimitives.MultiplyAdd(g, s, dw, dw);
            // forward: rstd = 1/√(Σx²/D + ε)   →   with g = dy·w:
            //   dx += rstd · g − x · rstd³ · (Σ g·x) / D
            TensorPrimitives.Multiply(dyr, w, g);
            T c = TensorPrimitives.Dot(g, xr) * s * s * s * invD;
            TensorPrimitives.MultiplyAdd(g, s, dxr, dxr);
            TensorPrimitives.MultiplyAdd(xr, -c, dxr, dxr);
        }
    }
}
