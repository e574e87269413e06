using System.Numerics;
using System.Numerics.Tensors;

namespace EdgeAgent.Training.Ops;

/// <summary>Which way a distillation KL divergence is taken.</summary>
public enum KlDirection
{
    /// <summary>KL(teacher ‖ student) = Σ p_T (log p_T − log p_S): mean-seeking (Hinton et al. 2015).</summary>
    Forward,

    /// <summary>KL(student ‖ teacher) = Σ p_S (log p_S − log p_T): mode-seeking (MiniLLM, Gu et al. 2023).</summary>
    Reverse,
}

/// <summary>
/// Distillation loss against a teacher's distribution at temperature τ: p = softmax(logits / τ) on both sides,
/// loss = τ² · KL per row (the τ² keeps gradient magnitudes independent of τ, as in Hinton et al. 2015).
/// </summary>
public static class KlDivergenceOp
{
    /// <summary>
    /// For rows [start, end): returns Σ τ²·KL and overwrites each row of <paramref name="student"/> with the loss
    /// gradient times <paramref name="scale"/>. <paramref name="scratch"/> needs 2·V elements.
    /// </summary>
    public static double Rows<T>(Span<T> student, ReadOnlySpan<T> teacher, int v, int start, int end, T temperature,
        KlDirection direction, T scale, Span<T> scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double total = 0;
        var logPs = scratch[..v];
        var logPt = scratch.Slice(v, v);
        T invT = T.One / temperature;
        for (int r = start; r < end; r++)
        {
            var z = student.Slice(r * v, v);
            LogSoftmax(z, invT, logPs);
            LogSoftmax(teacher.Slice(r * v, v), invT, logPt);
            T kl = T.Zero;
            if (direction == KlDirection.Forward)
            {
                // loss = τ² Σ p_T (log p_T − log p_S)
                for (int j = 0; j < v; j++)
                {
                    kl += T.Exp(logPt[j]) * (logPt[j] - logPs[j]);
                }
                // forward: loss = τ² Σ p_T (log p_T − log softmax(z/τ))   →   dz = τ (p_S − p_T)
                for (int j = 0; j < v; j++)
                {
                    z[j] = scale * temperature * (T.Exp(logPs[j]) - T.Exp(logPt[j]));
                }
            }
            else
            {
                // loss = τ² Σ p_S (log p_S − log p_T)
                for (int j = 0; j < v; j++)
                {
                    kl += T.Exp(logPs[j]) * (logPs[j] - logPt[j]);
                }
                // forward: loss = τ² Σ p_S (log p_S − log p_T), p_S = softmax(z/τ)
                //   →   dz_j = τ · p_S,j · (log p_S,j − log p_T,j − KL)
                for (int j = 0; j < v; j++)
                {
                    z[j] = scale * temperature * T.Exp(logPs[j]) * (logPs[j] - logPt[j] - kl);
                }
            }
            total += double.CreateChecked(temperature * temperature * kl);
        }
        return total;
    }

    private static void LogSoftmax<T>(ReadOnlySpan<T> z, T invT, Span<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Multiply(z, invT, output);
        T max = TensorPrimitives.Max<T>(output);
        T sum = T.Zero;
        foreach (var x in output)
        {
            sum += T.Exp(x - max);
        }
        TensorPrimitives.Subtract(output, max + T.Log(sum), output);
    }
}
