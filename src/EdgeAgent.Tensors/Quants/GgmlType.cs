namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// Tensor element types, with the numeric ids of ggml's <c>enum ggml_type</c> (ggml.h). Ids are part of the
/// GGUF file format and are never renumbered. EdgeAgent's own formats take ids 1000..1599, far above ggml's
/// (<see cref="EdgeQuantTypes"/>, docs/formats.md).
/// </summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ4_NL = 20,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    BF16 = 30,
}

/// <summary>
/// Layout facts of a <see cref="GgmlType"/>: how many elements one block holds and how many bytes it takes.
/// This is the part of the type-traits table that file parsing needs; kernels live in <see cref="QuantRegistry"/>.
/// </summary>
public readonly record struct GgmlTypeLayout(GgmlType Type, string Name, int BlockSize, int TypeSize)
{
    /// <summary>Bytes taken by a row of <paramref name="elements"/> values, or -1 if the count is not a whole number of blocks.</summary>
    public long RowBytes(long elements) => elements % BlockSize != 0 ? -1 : elements / BlockSize * TypeSize;
}

/// <summary>Lookup of <see cref="GgmlTypeLayout"/> by type id (values from ggml-common.h block structs).</summary>
public static class GgmlTypes
{
    /// <summary>Elements per super-block of the K-quants (QK_K in ggml).</summary>
    public const int QK_K = 256;

    private static readonly Dictionary<GgmlType, GgmlTypeLayout> Layouts = new[]
    {
        new GgmlTypeLayout(GgmlType.F32, "F32", 1, 4),
        new GgmlTypeLayout(GgmlType.F16, "F16", 1, 2),
        new GgmlTypeLayout(GgmlType.BF16, "BF16", 1, 2),
        new GgmlTypeLayout(GgmlType.F64, "F64", 1, 8),
        new GgmlTypeLayout(GgmlType.I8, "I8", 1, 1),
        new GgmlTypeLayout(GgmlType.I16, "I16", 1, 2),
        new GgmlTypeLayout(GgmlType.I32, "I32", 1, 4),
        new GgmlTypeLayout(GgmlType.I64, "I64", 1, 8),
        new GgmlTypeLayout(GgmlType.Q4_0, "Q4_0", 32, 2 + 16),
        new GgmlTypeLayout(GgmlType.Q4_1, "Q4_1", 32, 2 + 2 + 16),
        new GgmlTypeLayout(GgmlType.Q5_0, "Q5_0", 32, 2 + 4 + 16),
        new GgmlTypeLayout(GgmlType.Q5_1, "Q5_1", 32, 2 + 2 + 4 + 16),
        new GgmlTypeLayout(GgmlType.Q8_0, "Q8_0", 32, 2 + 32),
        new GgmlTypeLayout(GgmlType.Q8_1, "Q8_1", 32, 2 + 2 + 32),
        new GgmlTypeLayout(GgmlType.Q2_K, "Q2_K", QK_K, QK_K / 16 + QK_K / 4 + 2 + 2),
        new GgmlTypeLayout(GgmlType.Q3_K, "Q3_K", QK_K, QK_K / 8 + QK_K / 4 + 12 + 2),
        new GgmlTypeLayout(GgmlType.Q4_K, "Q4_K", QK_K, 2 + 2 + 12 + QK_K / 2),
        new GgmlTypeLayout(GgmlType.Q5_K, "Q5_K", QK_K, 2 + 2 + 12 + QK_K / 8 + QK_K / 2),
        new GgmlTypeLayout(GgmlType.Q6_K, "Q6_K", QK_K, QK_K / 2 + QK_K / 4 + QK_K / 16 + 2),
        new GgmlTypeLayout(GgmlType.Q8_K, "Q8_K", QK_K, 4 + QK_K + QK_K / 16 * 2),
        new GgmlTypeLayout(GgmlType.IQ4_NL, "IQ4_NL", 32, 2 + 16),
    }.Concat(EdgeQuantTypes.Layouts()).ToDictionary(l => l.Type);

    /// <summary>True when <paramref name="type"/> is a type this engine knows the layout of.</summary>
    public static bool IsKnown(GgmlType type) => Layouts.ContainsKey(type);

    /// <summary>The layout of a known type.</summary>
    /// <exception cref="NotSupportedException">The type id is not one this engine supports.</exception>
    public static GgmlTypeLayout Layout(GgmlType type) =>
        Layouts.TryGetValue(type, out var l) ? l : throw new NotSupportedException($"unsupported tensor type id {(uint)type}");

    /// <summary>Parses a type name such as "Q4_K" (case-insensitive).</summary>
    public static bool TryParse(string name, out GgmlType type)
    {
        foreach (var l in Layouts.Values)
        {
            if (string.Equals(l.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                type = l.Type;
                return true;
            }
        }
        type = default;
        return false;
    }
}
