using System.Numerics;
using System.Numerics.Tensors;

namespace EdgeAgent.Training.Ops;

/// <summary>Softmax cross-entropy of logits rows against target ids (a negative target is ignored).</summary>
public static class CrossEntropyOp
{
    /// <summary>
    /// For rows [start, end): returns Σ −log softmax(z)[target] (in double) and, when <paramref name="grad"/> is
    /// set, overwrites each row of logits with its gradient times <paramref name="scale"/>.
    /// </summary>
    public static double Rows<T>(Span<T> logits, ReadOnlySpan<int> targets, int v, int start, int end, T scale, bool grad)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double total = 0;
        for (int r = start; r < end; r++)
        {
            var z = logits.Slice(r * v, v);
            int target = targets[r];
            if (target < 0)
            {
                if (grad)
                {
                    z.Clear();
                }
                continue;
            }
            // loss = log Σ exp(z) − z[target], with the max subtracted for range
            T max = TensorPrimitives.Max<T>(z);
            T zt = z[target] - max;
            if (!grad)
            {
                T s = T.Zero;
                foreach (var x in z)
                {
                    s += T.Exp(x - max);
                }
                total += double.CreateChecked(T.Log(s) - zt);
                continue;
            }
            TensorPrimitives.Subtract(z, max, z);
            TensorPrimitives.Exp<T>(z, z);
            T sum = TensorPrimitives.Sum<T>(z);
            total += double.CreateChecked(T.Log(sum) - zt);
            // forward: loss = log Σ exp(z) − z[target]   →   dz = softmax(z) − onehot(target)
            TensorPrimitives.Multiply(z, scale / sum, z);
            z[target] -= scale;
        }
        return total;
    }
}
