using System.Runtime.InteropServices;

namespace EdgeAgent.Tensors.Quants;

// Block layouts of ggml-common.h, byte for byte (packed, little-endian). Every block holds 32 elements; the
// nibble formats keep element j in the low nibble of qs[j] and element j + 16 in the high nibble, and the 5-bit
// formats keep bit 4 of element j in bit j of qh. d (and m, s) are IEEE halves. Sizes are asserted in the tests.

/// <summary>block_q4_0: <c>x = (q - 8) * d</c>.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal unsafe struct BlockQ4_0
{
    public const int Bytes = 18;
    public ushort D;
    public fixed byte Qs[16];
}

/// <summary>block_q4_1: <c>x = q * d + m</c>.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal unsafe struct BlockQ4_1
{
    public const int Bytes = 20;
    public ushort D;
    public ushort M;
    public fixed byte Qs[16];
}

/// <summary>block_q5_0: <c>x = (q - 16) * d</c>, q's fifth bit in qh.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal unsafe struct BlockQ5_0
{
    public const int Bytes = 22;
    public ushort D;
    public fixed byte Qh[4];
    public fixed byte Qs[16];
}

/// <summary>block_q5_1: <c>x = q * d + m</c>, q's fifth bit in qh.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal unsafe struct BlockQ5_1
{
    public const int Bytes = 24;
    public ushort D;
    public ushort M;
    public fixed byte Qh[4];
    public fixed byte Qs[16];
}

/// <summary>block_q8_0: <c>x = q * d</c>.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal unsafe struct BlockQ8_0
{
    public const int Bytes = 34;
    public ushort D;
    public fixed sbyte Qs[32];
}

/// <summary>block_q8_1: <c>x = q * d</c>, and <c>s = d * sum(q)</c> for the m term of Q4_1/Q5_1 dots.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal unsafe struct BlockQ8_1
{
    public const int Bytes = 36;
    public ushort D;
    public ushort S;
    public fixed sbyte Qs[32];
}

/// <summary>block_iq4_nl: <c>x = kvalues_iq4nl[q] * d</c>.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal unsafe struct BlockIQ4_NL
{
    public const int Bytes = 18;
    public ushort D;
    public fixed byte Qs[16];
}

/// <summary>Constants shared by the 32-element formats.</summary>
internal static class LegacyBlock
{
    /// <summary>Elements per block (QK4_0 = QK4_1 = QK5_0 = QK5_1 = QK8_0 = QK8_1 = QK4_NL).</summary>
    public const int Size = 32;
}
