using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Tensors.Kernels;

/// <summary>
/// A read-only view of a 2-D weight matrix (<see cref="Rows"/> × <see cref="Cols"/>, row-major, each row
/// <see cref="RowBytes"/> bytes in <see cref="Type"/>) over memory owned elsewhere (a mapped model file).
/// </summary>
public readonly unsafe struct WeightMatrix
{
    public WeightMatrix(byte* data, GgmlType type, int rows, int cols)
    {
        var layout = GgmlTypes.Layout(type);
        if (cols % layout.BlockSize != 0)
        {
            throw new ArgumentException($"row length {cols} is not a multiple of the {layout.Name} block size {layout.BlockSize}");
        }
        Data = data;
        Type = type;
        Rows = rows;
        Cols = cols;
        RowBytes = cols / layout.BlockSize * layout.TypeSize;
        Traits = QuantRegistry.Get(type);
    }

    public byte* Data { get; }
    public GgmlType Type { get; }
    public int Rows { get; }
    public int Cols { get; }
    public int RowBytes { get; }
    public QuantTraits Traits { get; }

    public ReadOnlySpan<byte> Row(int r) => new(Data + (long)r * RowBytes, RowBytes);

    /// <summary>Row <paramref name="r"/> as float32 (embedding lookup).</summary>
    public void DequantizeRow(int r, Span<float> dst) => Traits.Dequantize(Row(r), dst[..Cols]);
}
