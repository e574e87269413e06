namespace EdgeAgent.Tensors.Quants;

/// <summary>Converts one row of blocks to float32. <c>dst.Length</c> is a multiple of the block size.</summary>
public delegate void DequantizeRow(ReadOnlySpan<byte> src, Span<float> dst);

/// <summary>Converts one row of float32 values (a multiple of the block size) to blocks.</summary>
public delegate void QuantizeRow(ReadOnlySpan<float> src, Span<byte> dst);

/// <summary>
/// Dot product of <paramref name="n"/> elements: a weight row in the format's own type and an activation row
/// already quantized to the format's <see cref="QuantTraits.VecDotType"/>.
/// </summary>
public delegate float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n);

/// <summary>
/// One row of the type-traits table (ggml's <c>type_traits</c> / <c>type_traits_cpu</c>): layout, conversions and
/// the dot kernel with the activation type it pairs with. Every fast kernel has its scalar reference beside it.
/// </summary>
public sealed record QuantTraits(
    GgmlTypeLayout Layout,
    GgmlType VecDotType,
    DequantizeRow Dequantize,
    QuantizeRow QuantizeReference,
    QuantizeRow Quantize,
    VecDot? VecDot,
    VecDot? VecDotReference)
{
    public GgmlType Type => Layout.Type;
    public string Name => Layout.Name;
    public int BlockSize => Layout.BlockSize;
    public int TypeSize => Layout.TypeSize;
}

/// <summary>The type-traits table, indexed by <see cref="GgmlType"/>.</summary>
public static class QuantRegistry
{
    private static readonly QuantTraits?[] Table = Build();

    // EdgeAgent's own formats (docs/formats.md), indexed by id − EdgeQuantTypes.FirstId.
    private static readonly QuantTraits?[] EdgeTable = BuildEdge();

    /// <summary>Traits of <paramref name="type"/>.</summary>
    /// <exception cref="NotSupportedException">No kernels exist for the type.</exception>
    public static QuantTraits Get(GgmlType type) =>
        Find(type) ?? throw new NotSupportedException($"no kernels for tensor type {type} (id {(uint)type})");

    /// <summary>True when kernels exist for <paramref name="type"/>.</summary>
    public static bool IsSupported(GgmlType type) => Find(type) is not null;

    /// <summary>All supported types.</summary>
    public static IEnumerable<QuantTraits> All => Table.Concat(EdgeTable).Where(t => t is not null)!;

    private static QuantTraits? Find(GgmlType type) =>
        (uint)type < (uint)Table.Length ? Table[(int)type]
        : (uint)type - EdgeQuantTypes.FirstId < (uint)EdgeTable.Length ? EdgeTable[(int)((uint)type - EdgeQuantTypes.FirstId)]
        : null;

    private static QuantTraits?[] BuildEdge()
    {
        var table = new QuantTraits?[EdgeQuantTypes.EndId - EdgeQuantTypes.FirstId];
        foreach (var t in EdgeQuantTypes.Traits())
        {
            table[(int)((uint)t.Type - EdgeQuantTypes.FirstId)] = t;
        }
        return table;
    }

    private static QuantTraits?[] Build()
    {
        var table = new QuantTraits?[64];
        void Add(GgmlType type, GgmlType vecDotType, DequantizeRow dq, QuantizeRow qref, QuantizeRow? q, VecDot? dot, VecDot? dotRef) =>
            table[(int)type] = new QuantTraits(GgmlTypes.Layout(type), vecDotType, dq, qref, q ?? qref, dot, dotRef);

        Add(GgmlType.F32, GgmlType.F32, F32Format.Dequantize, F32Format.QuantizeReference, null, F32Format.VecDot, F32Format.VecDotReference);
        Add(GgmlType.F16, GgmlType.F16, F16Format.Dequantize, F16Format.QuantizeReference, F16Format.Quantize, F16Format.VecDot, F16Format.VecDotReference);
        Add(GgmlType.BF16, GgmlType.BF16, BF16Format.Dequantize, BF16Format.QuantizeReference, BF16Format.Quantize, BF16Format.VecDot, BF16Format.VecDotReference);
        Add(GgmlType.Q4_0, GgmlType.Q8_0, Q4_0Format.Dequantize, Q4_0Format.QuantizeReference, null, Q4_0Format.VecDot, Q4_0Format.VecDotReference);
        Add(GgmlType.Q4_1, GgmlType.Q8_1, Q4_1Format.Dequantize, Q4_1Format.QuantizeReference, null, Q4_1Format.VecDot, Q4_1Format.VecDotReference);
        Add(GgmlType.Q5_0, GgmlType.Q8_0, Q5_0Format.Dequantize, Q5_0Format.QuantizeReference, null, Q5_0Format.VecDot, Q5_0Format.VecDotReference);
        Add(GgmlType.Q5_1, GgmlType.Q8_1, Q5_1Format.Dequantize, Q5_1Format.QuantizeReference, null, Q5_1Format.VecDot, Q5_1Format.VecDotReference);
        Add(GgmlType.Q8_0, GgmlType.Q8_0, Q8_0Format.Dequantize, Q8_0Format.QuantizeReference, Q8_0Format.Quantize, Q8_0Format.VecDot, Q8_0Format.VecDotReference);
        Add(GgmlType.Q8_1, GgmlType.Q8_1, Q8_1Format.Dequantize, Q8_1Format.QuantizeReference, Q8_1Format.Quantize, null, null);
        Add(GgmlType.IQ4_NL, GgmlType.Q8_0, IQ4_NLFormat.Dequantize, IQ4_NLFormat.QuantizeReference, null, IQ4_NLFormat.VecDot, IQ4_NLFormat.VecDotReference);
        Add(GgmlType.Q2_K, GgmlType.Q8_K, Q2_KFormat.Dequantize, Q2_KFormat.QuantizeReference, null, Q2_KFormat.VecDot, Q2_KFormat.VecDotReference);
        Add(GgmlType.Q3_K, GgmlType.Q8_K, Q3_KFormat.Dequantize, Q3_KFormat.QuantizeReference, null, Q3_KFormat.VecDot, Q3_KFormat.VecDotReference);
        Add(GgmlType.Q4_K, GgmlType.Q8_K, Q4_KFormat.Dequantize, Q4_KFormat.QuantizeReference, null, Q4_KFormat.VecDot, Q4_KFormat.VecDotReference);
        Add(GgmlType.Q5_K, GgmlType.Q8_K, Q5_KFormat.Dequantize, Q5_KFormat.QuantizeReference, null, Q5_KFormat.VecDot, Q5_KFormat.VecDotReference);
        Add(GgmlType.Q6_K, GgmlType.Q8_K, Q6_KFormat.Dequantize, Q6_KFormat.QuantizeReference, null, Q6_KFormat.VecDot, Q6_KFormat.VecDotReference);
        Add(GgmlType.Q8_K, GgmlType.Q8_K, Q8_KFormat.Dequantize, Q8_KFormat.QuantizeReference, Q8_KFormat.Quantize, null, null);
        return table;
    }
}
