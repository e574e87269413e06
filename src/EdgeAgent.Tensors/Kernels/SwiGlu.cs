using System.Runtime.Intrinsics;

namespace EdgeAgent.Tensors.Kernels;

/// <summary>
/// SwiGLU gate: <c>gate = silu(gate) · up</c>, silu(x) = x / (1 + e^−x), computed as llama.cpp's
/// <c>ggml_vec_swiglu_f32</c> does (AVX-512 build): 16 lanes at a time with <see cref="FastExp"/>, the leftovers
/// with the C library's expf. Call it once per row: where the 16-lane blocks start matters.
/// </summary>
public static class SwiGlu
{
    public static void Apply(Span<float> gate, ReadOnlySpan<float> up)
    {
        int n = up.Length, i = 0;
        var one = Vector512<float>.One;
        for (; i + 16 <= n; i += 16)
        {
            var x = Vector512.Create(gate.Slice(i, 16));
            var silu = x / (one + FastExp.Exp(Vector512<float>.Zero - x));
            (silu * Vector512.Create(up.Slice(i, 16))).CopyTo(gate.Slice(i, 16));
        }
        for (; i < n; i++)
        {
            float x = gate[i];
            gate[i] = x / (1f + MathF.Exp(-x)) * up[i];
        }
    }
}
