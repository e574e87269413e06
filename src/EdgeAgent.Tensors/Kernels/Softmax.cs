using System.Numerics.Tensors;

namespace EdgeAgent.Tensors.Kernels;

/// <summary>Numerically stable softmax in place (subtract the max, exponentiate, normalise).</summary>
public static class Softmax
{
    public static void InPlace(Span<float> x)
    {
        if (x.IsEmpty)
        {
            return;
        }
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, x);
        TensorPrimitives.Exp(x, x);
        float sum = TensorPrimitives.Sum(x);
        TensorPrimitives.Multiply(x, 1f / sum, x);
    }
}
