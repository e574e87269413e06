namespace EdgeAgent.Tensors.Quants;

/// <summary>The families of EdgeAgent's own quant formats (docs/formats.md).</summary>
public enum EdgeQuantFamily
{
    /// <summary>Affine INTn with a zero point: <c>x = d·(u − 2^(n−1)) + m</c>, u unsigned n-bit.</summary>
    Affine = 0,

    /// <summary>Symmetric INTn (absmax): <c>x = d·c</c>, c in [−2^(n−1), 2^(n−1)−1].</summary>
    Symmetric = 1,

    /// <summary>Logarithmic: <c>x = d·t[u]</c> with t = {0, ±1, ±2, ±4, …} (sign · 2^k levels).</summary>
    Log2 = 2,

    /// <summary>NormalFloat-4: <c>x = d·t[u]</c>, t the 16 normal-quantile levels of QLoRA scaled to int8.</summary>
    NF4 = 3,

    /// <summary>K-means codebook per group: <c>x = d·c[u]</c>, the 2^n int8 centroids stored in the block.</summary>
    KMeans = 4,

    /// <summary>2:4 sparse: two values of every four stored (4- or 8-bit symmetric) with their positions.</summary>
    Sparse24 = 5,
}

/// <summary>
/// Ids and layouts of EdgeAgent's quant formats, in a private range far above ggml's ids:
/// <c>id = 1000 + 100·family + 10·g + bits</c> where the group (block) size is <c>32·2^g</c> (g = 0..3, so 32..256).
/// Ids are part of the file format and never renumbered. A GGUF holding any of them is not loadable by llama.cpp.
/// </summary>
public static class EdgeQuantTypes
{
    /// <summary>The first id of the EdgeAgent range.</summary>
    public const uint FirstId = 1000;

    /// <summary>One past the last id of the EdgeAgent range.</summary>
    public const uint EndId = 1600;

    /// <summary>Group sizes a block may have (index g of the id scheme).</summary>
    public static ReadOnlySpan<int> GroupSizes => [32, 64, 128, 256];

    /// <summary>True when <paramref name="type"/> lies in EdgeAgent's id range.</summary>
    public static bool IsEdgeType(GgmlType type) => (uint)type >= FirstId && (uint)type < EndId;

    /// <summary>The bit widths a family supports.</summary>
    public static (int Min, int Max) BitRange(EdgeQuantFamily family) => family switch
    {
        EdgeQuantFamily.Affine or EdgeQuantFamily.Symmetric => (2, 8),
        EdgeQuantFamily.Log2 or EdgeQuantFamily.KMeans => (2, 4),
        EdgeQuantFamily.NF4 => (4, 4),
        EdgeQuantFamily.Sparse24 => (4, 8),
        _ => (0, -1),
    };

    /// <summary>The id of a format; throws when the combination does not exist.</summary>
    /// <exception cref="ArgumentException">Bits or group size outside what the family supports.</exception>
    public static GgmlType Id(EdgeQuantFamily family, int bits, int group = 32)
    {
        if (!TryId(family, bits, group, out var type))
        {
            throw new ArgumentException($"no {family} format with {bits} bits and group {group}");
        }
        return type;
    }

    /// <summary>The id of a format, if the combination exists.</summary>
    public static bool TryId(EdgeQuantFamily family, int bits, int group, out GgmlType type)
    {
        type = default;
        var (min, max) = BitRange(family);
        int g = GroupSizes.IndexOf(group);
        if (bits < min || bits > max || g < 0 || (family == EdgeQuantFamily.Sparse24 && (group != 32 || bits is not (4 or 8))))
        {
            return false;
        }
        type = (GgmlType)(FirstId + (100 * (uint)family) + (10 * (uint)g) + (uint)bits);
        return true;
    }

    /// <summary>Splits an EdgeAgent id into family, bits and group size.</summary>
    public static bool TryDescribe(GgmlType type, out EdgeQuantFamily family, out int bits, out int group)
    {
        uint rel = (uint)type - FirstId;
        family = (EdgeQuantFamily)(rel / 100);
        bits = (int)(rel % 10);
        int g = (int)(rel / 10 % 10);
        group = g < GroupSizes.Length ? GroupSizes[g] : 0;
        return IsEdgeType(type) && g < GroupSizes.Length && TryId(family, bits, group, out var back) && back == type;
    }

    /// <summary>The display name, e.g. <c>EA_AFFINE_Q4_G32</c>, <c>EA_NF4_G64</c>, <c>EA_SPARSE24_Q4</c>.</summary>
    public static string Name(EdgeQuantFamily family, int bits, int group) => family switch
    {
        EdgeQuantFamily.Sparse24 => $"EA_SPARSE24_Q{bits}",
        EdgeQuantFamily.NF4 => $"EA_NF4_G{group}",
        _ => $"EA_{family.ToString().ToUpperInvariant()}_Q{bits}_G{group}",
    };

    /// <summary>Bytes of the per-block header (scales, zero point, codebook).</summary>
    public static int HeaderBytes(EdgeQuantFamily family, int bits) => family switch
    {
        EdgeQuantFamily.Affine => 4,
        EdgeQuantFamily.KMeans => 2 + (1 << bits),
        EdgeQuantFamily.Sparse24 => 2 + 4,
        _ => 2,
    };

    /// <summary>Bytes of one block of the format.</summary>
    public static int BlockBytes(EdgeQuantFamily family, int bits, int group) => family == EdgeQuantFamily.Sparse24
        ? HeaderBytes(family, bits) + (16 * bits / 8)
        : HeaderBytes(family, bits) + (group * bits / 8);

    /// <summary>Layouts of every EdgeAgent format (for <see cref="GgmlTypes"/>).</summary>
    public static IEnumerable<GgmlTypeLayout> Layouts()
    {
        foreach (var family in Enum.GetValues<EdgeQuantFamily>())
        {
            var (min, max) = BitRange(family);
            foreach (int group in GroupSizes.ToArray())
            {
                for (int bits = min; bits <= max; bits++)
                {
                    if (TryId(family, bits, group, out var id))
                    {
                        yield return new GgmlTypeLayout(id, Name(family, bits, group), group, BlockBytes(family, bits, group));
                    }
                }
            }
        }
    }

    /// <summary>Registry rows of every EdgeAgent format (for <see cref="QuantRegistry"/>).</summary>
    internal static IEnumerable<QuantTraits> Traits()
    {
        foreach (var layout in Layouts())
        {
            TryDescribe(layout.Type, out var family, out int bits, out int group);
            if (family == EdgeQuantFamily.Sparse24)
            {
                var s = new Sparse24Format(bits);
                yield return new QuantTraits(layout, GgmlType.Q8_0, s.Dequantize, s.QuantizeReference, s.QuantizeReference, s.VecDot, s.VecDotReference);
            }
            else
            {
                var f = CodeBlockFormat.Get(family, bits, group);
                yield return new QuantTraits(layout, f.VecDotType, f.Dequantize, f.QuantizeReference, f.QuantizeReference, f.VecDot, f.VecDotReference);
            }
        }
    }
}
