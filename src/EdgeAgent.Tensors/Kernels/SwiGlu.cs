using System.Numerics.Tensors;

namespace EdgeAgent.Tensors.Kernels;

/// <summary>SwiGLU gate: <c>gate = silu(gate) · up</c>, with silu(x) = x·σ(x).</summary>
public static class SwiGlu
{
    private const int Chunk = 1024;

    public static void Apply(Span<float> gate, ReadOnlySpan<float> up)
    {
        Span<float> sig = stackalloc float[Chunk];
        for (int i = 0; i < up.Length; i += Chunk)
        {
            int n = Math.Min(Chunk, up.Length - i);
            var g = gate.Slice(i, n);
            TensorPrimitives.Sigmoid(g, sig[..n]);
            TensorPrimitives.Multiply(g, sig[..n], g);
            TensorPrimitives.Multiply(g, up.Slice(i, n), g);
        }
    }
}
