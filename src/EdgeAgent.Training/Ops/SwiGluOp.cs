using System.Numerics;

namespace EdgeAgent.Training.Ops;

/// <summary>The SwiGLU feed-forward gate: h = silu(g) ⊙ u with silu(g) = g·σ(g).</summary>
public static class SwiGluOp
{
    public static void Forward<T>(ReadOnlySpan<T> gate, ReadOnlySpan<T> up, Span<T> h)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < h.Length; i++)
        {
            T g = gate[i];
            // h = g · σ(g) · u
            h[i] = g / (T.One + T.Exp(-g)) * up[i];
        }
    }

    /// <summary>Writes (not adds) the gradients of gate and up.</summary>
    public static void Backward<T>(ReadOnlySpan<T> dh, ReadOnlySpan<T> gate, ReadOnlySpan<T> up, Span<T> dGate, Span<T> dUp)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < dh.Length; i++)
        {
            T g = gate[i];
            T sig = T.One / (T.One + T.Exp(-g));
            // forward: h = g · σ(g) · u
            //   →   du = dh · g·σ(g);   dg = dh · u · σ(g)·(1 + g·(1 − σ(g)))
            dUp[i] = dh[i] * g * sig;
            dGate[i] = dh[i] * up[i] * sig * (T.One + g * (T.One - sig));
        }
    }
}
