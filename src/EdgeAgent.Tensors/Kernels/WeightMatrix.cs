using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Tensors.Kernels;

/// <summary>
/// A read-only view of a 2-D weight matrix (<see cref="Rows"/> × <see cref="Cols"/>, row-major, each row
/// <see cref="RowBytes"/> bytes in <see cref="Type"/>) over memory owned elsewhere (a mapped model file), and
/// optionally the same weights repacked for the matmul kernels (<see cref="Packed"/>, see <see cref="PackedWeights"/>).
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

    private WeightMatrix(in WeightMatrix w, byte* packed)
    {
        this = w;
        Packed = packed;
    }

    /// <summary>The weights in the file's layout (row <c>r</c> at <c>r · RowBytes</c>).</summary>
    public byte* Data { get; }

    /// <summary>The same weights repacked by <see cref="PackedWeights"/> for <see cref="MatMul"/>, or null.</summary>
    public byte* Packed { get; }
    public GgmlType Type { get; }
    public int Rows { get; }
    public int Cols { get; }
    public int RowBytes { get; }
    public QuantTraits Traits { get; }

    /// <summary>This matrix with <paramref name="packed"/> as its repacked copy.</summary>
    internal WeightMatrix WithPacked(byte* packed) => new(this, packed);

    public ReadOnlySpan<byte> Row(int r) => new(Data + (long)r * RowBytes, RowBytes);

    /// <summary>Row <paramref name="r"/> as float32 (embedding lookup).</summary>
    /// <remarks>Reads the packed copy when there is one, so a tied embedding's mapped file pages stay untouched.</remarks>
    public void DequantizeRow(int r, Span<float> dst)
    {
        if (Packed == null)
        {
            Traits.Dequantize(Row(r), dst[..Cols]);
            return;
        }
        Span<byte> row = RowBytes <= 16384 ? stackalloc byte[RowBytes] : new byte[RowBytes];
        fixed (byte* p = row)
        {
            if (Type == GgmlType.Q4_K)
            {
                Q4_KInterleaved.Unpack(Packed + ((long)r * RowBytes), p, Cols / KQuantBlocks.QK);
            }
            else
            {
                LegacyPacked.Unpack(Type, Packed, Rows, Cols, r, p);
            }
        }
        Traits.Dequantize(row, dst[..Cols]);
    }
}
