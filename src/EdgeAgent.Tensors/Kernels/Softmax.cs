using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace EdgeAgent.Tensors.Kernels;

/// <summary>
/// Softmax in place, as llama.cpp's <c>ggml_vec_soft_max_f32</c> computes it (AVX-512 build): subtract the max,
/// exponentiate 16 lanes at a time with <see cref="FastExp"/> (leftovers with expf), sum each block's lanes with
/// the <c>_mm512_reduce_add_ps</c> tree into a double, then scale by the float of 1/sum.
/// Entries of −∞ (masked positions) become exactly 0.
/// </summary>
public static class Softmax
{
    public static void InPlace(Span<float> x)
    {
        if (x.IsEmpty)
        {
            return;
        }
        float max = TensorPrimitives.Max(x);
        var vmax = Vector512.Create(max);
        double sum = 0;
        int i = 0;
        for (; i + 16 <= x.Length; i += 16)
        {
            var e = FastExp.Exp(Vector512.Create(x.Slice(i, 16)) - vmax);
            e.CopyTo(x.Slice(i, 16));
            sum += GgmlDot.ReduceAdd(e);
        }
        for (; i < x.Length; i++)
        {
            float e = MathF.Exp(x[i] - max);
            sum += e;
            x[i] = e;
        }
        TensorPrimitives.Multiply(x, (float)(1.0 / sum), x);
    }
}
