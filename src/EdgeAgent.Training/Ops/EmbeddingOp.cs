using System.Numerics;
using System.Numerics.Tensors;

namespace EdgeAgent.Training.Ops;

/// <summary>Token embedding lookup: x[n] = table[tokens[n]].</summary>
public static class EmbeddingOp
{
    public static void Forward<T>(ReadOnlySpan<T> table, ReadOnlySpan<int> tokens, Span<T> x, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int n = 0; n < tokens.Length; n++)
        {
            table.Slice(tokens[n] * d, d).CopyTo(x.Slice(n * d, d));
        }
    }

    /// <summary>Adds each row's gradient to its token's row of <paramref name="dTable"/>.</summary>
    public static void Backward<T>(ReadOnlySpan<T> dx, ReadOnlySpan<int> tokens, Span<T> dTable, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int n = 0; n < tokens.Length; n++)
        {
            // forward: x[n] = table[tokens[n]]   →   dtable[tokens[n]] += dx[n]
            var row = dTable.Slice(tokens[n] * d, d);
            TensorPrimitives.Add(row, dx.Slice(n * d, d), row);
        }
    }
}
