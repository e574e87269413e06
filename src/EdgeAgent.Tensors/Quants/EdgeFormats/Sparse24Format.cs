using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// EdgeAgent 2:4 sparse format (<c>EA_SPARSE24_Q4</c>, <c>EA_SPARSE24_Q8</c>): blocks of 32 weights in which every
/// aligned group of four holds at most two non-zeros. A block is fp16 d, a uint32 of eight 4-bit pattern indices
/// (group g in nibble g; index into the six position pairs (0,1) (0,2) (0,3) (1,2) (1,3) (2,3)), then the 16 kept
/// values in group order (values 2g and 2g+1 belong to group g): 4-bit as <c>u − 8</c> in nibbles (value k in the
/// low nibble of byte k for k &lt; 8, value k in the high nibble of byte k − 8 otherwise), or 8-bit signed bytes.
/// 3.5 (Q4) or 5.5 (Q8) bits per weight; the dot gathers the matching Q8_0 activations with byte shuffles and
/// does half the multiplications of a dense format.
/// </summary>
public sealed unsafe class Sparse24Format
{
    private static ReadOnlySpan<byte> First => [0, 0, 0, 1, 1, 2];
    private static ReadOnlySpan<byte> Second => [1, 2, 3, 2, 3, 3];

    /// <summary>Creates the format with 4- or 8-bit values.</summary>
    public Sparse24Format(int bits)
    {
        if (bits is not (4 or 8))
        {
            throw new ArgumentException("2:4 sparse values are 4 or 8 bits");
        }
        Bits = bits;
        Type = EdgeQuantTypes.Id(EdgeQuantFamily.Sparse24, bits, 32);
        BlockBytes = EdgeQuantTypes.BlockBytes(EdgeQuantFamily.Sparse24, bits, 32);
    }

    public int Bits { get; }
    public GgmlType Type { get; }
    public int BlockBytes { get; }
    private int ValueOffset => 6;

    /// <summary>True when every aligned group of four values of <paramref name="row"/> has at least two zeros.</summary>
    public static bool IsTwoFour(ReadOnlySpan<float> row)
    {
        if (row.Length % 4 != 0)
        {
            return false;
        }
        for (int g = 0; g < row.Length; g += 4)
        {
            int nz = (row[g] != 0 ? 1 : 0) + (row[g + 1] != 0 ? 1 : 0) + (row[g + 2] != 0 ? 1 : 0) + (row[g + 3] != 0 ? 1 : 0);
            if (nz > 2)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Quantizes blocks of 32: in each group of four the two values of largest magnitude are kept (all non-zeros of
    /// a 2:4 row), scaled symmetrically so the largest maps to −2^(n−1) (ggml's Q4_0 rule).
    /// </summary>
    /// <exception cref="ArgumentException">src is not whole blocks, or dst is too short.</exception>
    public void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = Blocks(src.Length, dst.Length);
        Span<float> kept = stackalloc float[16];
        Span<byte> patterns = stackalloc byte[8];
        Span<int> values = stackalloc int[16];
        for (int b = 0; b < nb; b++)
        {
            var x = src.Slice(b * 32, 32);
            for (int g = 0; g < 8; g++)
            {
                var q = x.Slice(4 * g, 4);
                // The two largest |values| (earlier position on ties), in position order.
                int a = 0;
                for (int i = 1; i < 4; i++)
                {
                    a = MathF.Abs(q[i]) > MathF.Abs(q[a]) ? i : a;
                }
                int c = a == 0 ? 1 : 0;
                for (int i = 0; i < 4; i++)
                {
                    c = i != a && MathF.Abs(q[i]) > MathF.Abs(q[c]) ? i : c;
                }
                int i0 = Math.Min(a, c), i1 = Math.Max(a, c);
                patterns[g] = PatternIndex(i0, i1);
                kept[2 * g] = q[i0];
                kept[(2 * g) + 1] = q[i1];
            }
            float d = CodeBlockFormat.SymmetricScale(kept, Bits);
            float id = d != 0 ? 1 / d : 0;
            int half = 1 << (Bits - 1);
            for (int k = 0; k < 16; k++)
            {
                values[k] = Math.Clamp((int)MathF.Round(kept[k] * id), -half, half - 1);
            }
            EncodeBlock(dst.Slice(b * BlockBytes, BlockBytes), d, patterns, values);
        }
    }

    /// <summary>Index of the position pair (i0 &lt; i1) in the pattern table.</summary>
    public static byte PatternIndex(int i0, int i1) => (byte)(i0 switch
    {
        0 => i1 - 1,
        1 => i1 + 1,
        _ => 5,
    });

    /// <summary>Writes one block from its scale, eight pattern indices and 16 signed values.</summary>
    public void EncodeBlock(Span<byte> block, float d, ReadOnlySpan<byte> patterns, ReadOnlySpan<int> values)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(block, BitConverter.HalfToUInt16Bits((Half)d));
        uint p = 0;
        for (int g = 0; g < 8; g++)
        {
            p |= (uint)patterns[g] << (4 * g);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(block[2..], p);
        var v = block[ValueOffset..];
        if (Bits == 8)
        {
            for (int k = 0; k < 16; k++)
            {
                v[k] = (byte)(sbyte)values[k];
            }
        }
        else
        {
            for (int k = 0; k < 8; k++)
            {
                v[k] = (byte)((values[k] + 8) | ((values[k + 8] + 8) << 4));
            }
        }
    }

    /// <summary>Dequantizes <c>dst.Length / 32</c> blocks (pruned positions are exactly 0).</summary>
    public void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = Blocks(dst.Length, src.Length);
        Span<int> pos = stackalloc int[16];
        Span<int> values = stackalloc int[16];
        for (int b = 0; b < nb; b++)
        {
            float d = Decode(src.Slice(b * BlockBytes, BlockBytes), pos, values);
            var y = dst.Slice(b * 32, 32);
            y.Clear();
            for (int k = 0; k < 16; k++)
            {
                y[pos[k]] = d * values[k];
            }
        }
    }

    private float Decode(ReadOnlySpan<byte> block, Span<int> pos, Span<int> values)
    {
        float d = Fp16Conversions.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(block));
        uint p = BinaryPrimitives.ReadUInt32LittleEndian(block[2..]);
        var v = block[ValueOffset..];
        for (int g = 0; g < 8; g++)
        {
            int pat = Math.Min(5, (int)((p >> (4 * g)) & 0xF)); // hostile files: an index past 5 reads as (2,3)
            pos[2 * g] = (4 * g) + First[pat];
            pos[(2 * g) + 1] = (4 * g) + Second[pat];
        }
        for (int k = 0; k < 16; k++)
        {
            values[k] = Bits == 8 ? (sbyte)v[k] : (k < 8 ? v[k] & 0x0F : v[k - 8] >> 4) - 8;
        }
        return d;
    }

    /// <summary>Scalar dot with Q8_0 activations: <c>sumf += sumi·(d_x·d_y)</c> per block.</summary>
    public float VecDotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        int nb = DotBlocks(n, weights.Length, activations.Length);
        Span<int> pos = stackalloc int[16];
        Span<int> values = stackalloc int[16];
        float sum = 0;
        for (int b = 0; b < nb; b++)
        {
            float d = Decode(weights.Slice(b * BlockBytes, BlockBytes), pos, values);
            var y = activations.Slice(b * 34, 34);
            int sumi = 0;
            for (int k = 0; k < 16; k++)
            {
                sumi += values[k] * (sbyte)y[2 + pos[k]];
            }
            sum += sumi * (d * Fp16Conversions.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(y)));
        }
        return sum;
    }

    /// <summary>SIMD dot (portable Vector128), equal to <see cref="VecDotReference"/> bit for bit.</summary>
    public float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        if (!Vector128.IsHardwareAccelerated)
        {
            return VecDotReference(weights, activations, n);
        }
        int nb = DotBlocks(n, weights.Length, activations.Length);
        fixed (byte* pw = weights)
        fixed (byte* pa = activations)
        {
            return Bits == 4 ? Dot<Values4>(pw, pa, nb, BlockBytes) : Dot<Values8>(pw, pa, nb, BlockBytes);
        }
    }

    private static float Dot<TValues>(byte* x, byte* y, int nb, int blockBytes)
        where TValues : struct, IValues
    {
        // Lane pairs (2g, 2g+1) read group g's pattern: low nibble of byte g/2 for even g, high nibble for odd g.
        var dupIndex = Vector128.Create((byte)0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
        var highNibble = Vector128.Create((byte)0, 0, 0xFF, 0xFF, 0, 0, 0xFF, 0xFF, 0, 0, 0xFF, 0xFF, 0, 0, 0xFF, 0xFF);
        // First position of pair p at table index p, second at p + 8.
        var pairTable = Vector128.Create((byte)0, 0, 0, 1, 1, 2, 0, 0, 1, 2, 3, 2, 3, 3, 0, 0);
        var secondOfPair = Vector128.Create((byte)0, 8, 0, 8, 0, 8, 0, 8, 0, 8, 0, 8, 0, 8, 0, 8);
        var groupBase = Vector128.Create((byte)0, 0, 4, 4, 8, 8, 12, 12, 0, 0, 4, 4, 8, 8, 12, 12);
        var lowerHalf = Vector128.Create(ulong.MaxValue, 0UL).AsByte();
        float sum = 0;
        for (int b = 0; b < nb; b++, x += blockBytes, y += 34)
        {
            var patterns = Vector128.CreateScalar(Unsafe.ReadUnaligned<uint>(x + 2)).AsByte();
            var dup = Vector128.ShuffleNative(patterns, dupIndex);
            var pair = Vector128.ConditionalSelect(highNibble, Vector128.ShiftRightLogical(dup, 4), dup & Vector128.Create((byte)0x0F));
            pair = Vector128.Min(pair, Vector128.Create((byte)5));
            var index = Vector128.ShuffleNative(pairTable, pair + secondOfPair) + groupBase;
            // Groups 0..3 gather from activations 0..15, groups 4..7 from 16..31.
            var a = Vector128.ConditionalSelect(lowerHalf,
                Vector128.ShuffleNative(Vector128.Load(y + 2), index),
                Vector128.ShuffleNative(Vector128.Load(y + 18), index));
            int sumi = Vector128.Sum(LegacyInt8.Dot(TValues.Load(x + 6), a.AsSByte()));
            sum += sumi * (Fp16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(x)) * Fp16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(y)));
        }
        return sum;
    }

    private int Blocks(int elements, int bytes)
    {
        if (elements % 32 != 0)
        {
            throw new ArgumentException($"{elements} elements are not whole 2:4 sparse blocks of 32");
        }
        int nb = elements / 32;
        if (bytes < (long)nb * BlockBytes)
        {
            throw new ArgumentException($"{bytes} bytes given, {(long)nb * BlockBytes} needed");
        }
        return nb;
    }

    private int DotBlocks(int n, int weightsLength, int activationsLength)
    {
        if (n < 0 || n % 32 != 0)
        {
            throw new ArgumentException($"n = {n} is not whole 2:4 sparse blocks of 32");
        }
        int nb = n / 32;
        if (weightsLength < (long)nb * BlockBytes || activationsLength < (long)nb * 34)
        {
            throw new ArgumentException("a row is shorter than n elements need");
        }
        return nb;
    }

    private interface IValues
    {
        static abstract Vector128<sbyte> Load(byte* p);
    }

    private readonly struct Values4 : IValues
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<sbyte> Load(byte* p)
        {
            var q = Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(p)).AsByte();
            var lo = (q & Vector128.Create((byte)0x0F)).AsUInt64().ToScalar();
            var hi = Vector128.ShiftRightLogical(q, 4).AsUInt64().ToScalar();
            return (Vector128.Create(lo, hi).AsByte() - Vector128.Create((byte)8)).AsSByte();
        }
    }

    private readonly struct Values8 : IValues
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<sbyte> Load(byte* p) => Vector128.Load((sbyte*)p);
    }
}
