using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Inference.Gguf;

/// <summary>
/// A tensor's entry in a GGUF file. <see cref="Dimensions"/> is in ggml order: <c>Dimensions[0]</c> (ne0) is the
/// innermost, contiguous dimension, so a weight matrix of <c>rows × cols</c> has <c>Dimensions = [cols, rows]</c>.
/// <see cref="Offset"/> is relative to the start of the data section.
/// </summary>
public sealed record GgufTensorInfo(string Name, GgmlType Type, long[] Dimensions, long Offset, long ByteSize)
{
    /// <summary>Total number of elements.</summary>
    public long ElementCount => Dimensions.Aggregate(1L, (a, d) => a * d);

    /// <summary>Elements in one row (ne0).</summary>
    public long RowLength => Dimensions.Length == 0 ? 1 : Dimensions[0];

    /// <summary>Number of rows (product of the outer dimensions).</summary>
    public long RowCount => Dimensions.Length <= 1 ? 1 : ElementCount / Dimensions[0];

    /// <summary>Shape in ggml order, e.g. "[576, 49152]".</summary>
    public string ShapeText => "[" + string.Join(", ", Dimensions) + "]";
}
