using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// EdgeAgent's group formats (affine, symmetric, log2, NF4, k-means): a block of <see cref="Group"/> weights is a
/// header (fp16 scale d; fp16 offset m for affine; the int8 codebook for k-means) followed by one n-bit code u per
/// weight, in 32-element sub-blocks of 4n bytes each. Within a sub-block, 8-bit codes are plain bytes, 4-bit codes
/// are nibbles (element j low nibble of byte j, element j+16 high nibble, as Q4_0), and other widths are n bit planes
/// (a little-endian uint32 per plane; bit j of plane p is bit p of element j's code).
/// A code maps to a signed int8 value v (affine/symmetric: <c>u − 2^(n−1)</c>; the others: a 16-entry table), so
/// the dot with Q8 activations is an exact integer sum per 32 elements, scaled by the activation's d and then
/// the block's d — no dequantization to float at load or in the kernel.
/// </summary>
public sealed unsafe class CodeBlockFormat
{
    /// <summary>QLoRA's NF4 levels (Dettmers et al. 2023, Appendix E) times 127, rounded to int8.</summary>
    public static ReadOnlySpan<sbyte> NF4Table => [-127, -88, -67, -50, -36, -23, -12, 0, 10, 20, 31, 43, 56, 71, 92, 127];

    private static readonly Dictionary<GgmlType, CodeBlockFormat> Cache = [];
    private readonly sbyte[] _fixedTable;

    private CodeBlockFormat(EdgeQuantFamily family, int bits, int group)
    {
        Family = family;
        Bits = bits;
        Group = group;
        Type = EdgeQuantTypes.Id(family, bits, group);
        HeaderBytes = EdgeQuantTypes.HeaderBytes(family, bits);
        BlockBytes = EdgeQuantTypes.BlockBytes(family, bits, group);
        _fixedTable = family switch
        {
            EdgeQuantFamily.NF4 => NF4Table.ToArray(),
            EdgeQuantFamily.Log2 => Log2Table(bits),
            _ => [],
        };
    }

    /// <summary>The format of a family, bit width and group size.</summary>
    /// <exception cref="ArgumentException">No such format (see <see cref="EdgeQuantTypes.BitRange"/>).</exception>
    public static CodeBlockFormat Get(EdgeQuantFamily family, int bits, int group)
    {
        if (family == EdgeQuantFamily.Sparse24)
        {
            throw new ArgumentException("2:4 sparse is not a group format; use Sparse24Format");
        }
        var type = EdgeQuantTypes.Id(family, bits, group);
        lock (Cache)
        {
            if (!Cache.TryGetValue(type, out var f))
            {
                Cache[type] = f = new CodeBlockFormat(family, bits, group);
            }
            return f;
        }
    }

    public GgmlType Type { get; }
    public EdgeQuantFamily Family { get; }
    public int Bits { get; }
    public int Group { get; }
    public int HeaderBytes { get; }
    public int BlockBytes { get; }
    public int Levels => 1 << Bits;
    private int Offset => 1 << (Bits - 1);
    private int SubBytes => 4 * Bits;

    /// <summary>Affine pairs with Q8_1 (its <c>s = d·Σq</c> carries the m term); the others with Q8_0.</summary>
    public GgmlType VecDotType => Family == EdgeQuantFamily.Affine ? GgmlType.Q8_1 : GgmlType.Q8_0;

    /// <summary>True for the formats whose codes index a table (log2, NF4, k-means).</summary>
    public bool HasTable => Family is EdgeQuantFamily.Log2 or EdgeQuantFamily.NF4 or EdgeQuantFamily.KMeans;

    /// <summary>The fixed level table of log2 and NF4 (empty otherwise).</summary>
    public ReadOnlySpan<sbyte> FixedTable => _fixedTable;

    /// <summary>Log2 levels for n bits, ascending: 0 and ±2^k for k = 0..2^(n−1)−2 (n = 4: 0, ±1, ±2, …, ±64).</summary>
    public static sbyte[] Log2Table(int bits)
    {
        int half = 1 << (bits - 1);
        var t = new sbyte[2 * half];
        for (int i = 0; i < half; i++)
        {
            int mag = i == 0 ? 0 : 1 << (i - 1);
            t[half + i] = (sbyte)mag;
            t[half - 1 - i] = (sbyte)-mag;
        }
        return t;
    }

    /// <summary>The value v of code <paramref name="u"/> (the table is the block's codebook for k-means).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Value(int u, ReadOnlySpan<sbyte> table) => HasTable ? table[u] : u - Offset;

    /// <summary>A float rounded through fp16, as the header stores it.</summary>
    public static float Half(float x) => (float)(Half)x;

    /// <summary>
    /// Writes one block: scale <paramref name="d"/>, offset <paramref name="m"/> (affine only), the codebook
    /// (k-means only, <see cref="Levels"/> entries) and <see cref="Group"/> codes, each below <see cref="Levels"/>.
    /// Pass d and m already rounded with <see cref="Half"/> if the codes were chosen against them.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong code count, codebook size or block size.</exception>
    public void EncodeBlock(Span<byte> block, float d, float m, ReadOnlySpan<byte> codes, ReadOnlySpan<sbyte> codebook = default)
    {
        if (block.Length < BlockBytes || codes.Length != Group || (Family == EdgeQuantFamily.KMeans && codebook.Length != Levels))
        {
            throw new ArgumentException($"{EdgeQuantTypes.Name(Family, Bits, Group)}: block needs {BlockBytes} bytes, {Group} codes" + (Family == EdgeQuantFamily.KMeans ? $" and {Levels} codebook entries" : ""));
        }
        BinaryPrimitives.WriteUInt16LittleEndian(block, BitConverter.HalfToUInt16Bits((Half)d));
        if (Family == EdgeQuantFamily.Affine)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(block[2..], BitConverter.HalfToUInt16Bits((Half)m));
        }
        if (Family == EdgeQuantFamily.KMeans)
        {
            for (int i = 0; i < Levels; i++)
            {
                block[2 + i] = (byte)codebook[i];
            }
        }
        var body = block[HeaderBytes..];
        for (int s = 0; s < Group / 32; s++)
        {
            PackSubBlock(codes.Slice(s * 32, 32), body.Slice(s * SubBytes, SubBytes));
        }
    }

    /// <summary>Reads back a block's codes (<see cref="Group"/> of them) and its codebook/table.</summary>
    public void DecodeBlock(ReadOnlySpan<byte> block, Span<byte> codes, out float d, out float m, Span<sbyte> table)
    {
        ReadHeader(block, out d, out m, table);
        var body = block[HeaderBytes..];
        for (int s = 0; s < Group / 32; s++)
        {
            UnpackSubBlock(body.Slice(s * SubBytes, SubBytes), codes.Slice(s * 32, 32));
        }
    }

    private void ReadHeader(ReadOnlySpan<byte> block, out float d, out float m, Span<sbyte> table)
    {
        d = Fp16Conversions.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(block));
        m = Family == EdgeQuantFamily.Affine ? Fp16Conversions.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(block[2..])) : 0f;
        table.Clear();
        if (Family == EdgeQuantFamily.KMeans)
        {
            for (int i = 0; i < Levels; i++)
            {
                table[i] = (sbyte)block[2 + i];
            }
        }
        else if (HasTable)
        {
            _fixedTable.CopyTo(table);
        }
    }

    private void PackSubBlock(ReadOnlySpan<byte> codes, Span<byte> dst)
    {
        switch (Bits)
        {
            case 8:
                codes.CopyTo(dst);
                break;
            case 4:
                for (int j = 0; j < 16; j++)
                {
                    dst[j] = (byte)((codes[j] & 0x0F) | (codes[j + 16] << 4));
                }
                break;
            default:
                for (int p = 0; p < Bits; p++)
                {
                    uint plane = 0;
                    for (int j = 0; j < 32; j++)
                    {
                        plane |= (uint)((codes[j] >> p) & 1) << j;
                    }
                    BinaryPrimitives.WriteUInt32LittleEndian(dst[(4 * p)..], plane);
                }
                break;
        }
    }

    private void UnpackSubBlock(ReadOnlySpan<byte> src, Span<byte> codes)
    {
        switch (Bits)
        {
            case 8:
                src[..32].CopyTo(codes);
                break;
            case 4:
                for (int j = 0; j < 16; j++)
                {
                    codes[j] = (byte)(src[j] & 0x0F);
                    codes[j + 16] = (byte)(src[j] >> 4);
                }
                break;
            default:
                codes[..32].Clear();
                for (int p = 0; p < Bits; p++)
                {
                    uint plane = BinaryPrimitives.ReadUInt32LittleEndian(src[(4 * p)..]);
                    for (int j = 0; j < 32; j++)
                    {
                        codes[j] |= (byte)(((plane >> j) & 1) << p);
                    }
                }
                break;
        }
    }

    /// <summary>Converts <c>dst.Length / Group</c> blocks to float32: <c>x = d·v + m</c>.</summary>
    /// <exception cref="ArgumentException">dst is not whole blocks, or src is too short.</exception>
    public void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = Blocks(dst.Length, src.Length, nameof(dst));
        Span<byte> codes = stackalloc byte[Group];
        Span<sbyte> table = stackalloc sbyte[16];
        for (int b = 0; b < nb; b++)
        {
            DecodeBlock(src.Slice(b * BlockBytes, BlockBytes), codes, out float d, out float m, table);
            var y = dst.Slice(b * Group, Group);
            for (int j = 0; j < Group; j++)
            {
                y[j] = (d * Value(codes[j], table)) + m;
            }
        }
    }

    /// <summary>
    /// Round-to-nearest quantization, no calibration: affine from the group's min and max (the seed's
    /// <c>q = round((x − min)/(max − min)·(2^n − 1))</c>); symmetric from the signed absmax (ggml's Q4_0 rule, so
    /// the extreme maps to −2^(n−1)); log2/NF4 from absmax to the nearest level; k-means by Lloyd's algorithm on the
    /// group's values. Codes are chosen against the fp16-rounded header values.
    /// </summary>
    /// <exception cref="ArgumentException">src is not whole blocks, or dst is too short.</exception>
    public void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = Blocks(src.Length, dst.Length, nameof(src));
        Span<byte> codes = stackalloc byte[Group];
        Span<sbyte> codebook = stackalloc sbyte[Levels];
        Span<float> centroids = stackalloc float[Levels];
        for (int b = 0; b < nb; b++)
        {
            var x = src.Slice(b * Group, Group);
            float d, m = 0;
            switch (Family)
            {
                case EdgeQuantFamily.Affine:
                    (d, m) = AffineRange(x, Bits);
                    AssignAffine(x, d, m, codes);
                    break;
                case EdgeQuantFamily.Symmetric:
                    d = SymmetricScale(x, Bits);
                    AssignAffine(x, d, 0, codes);
                    break;
                case EdgeQuantFamily.KMeans:
                    KMeans1D.Fit(x, default, centroids, iterations: 12);
                    d = CodebookFromCentroids(centroids, codebook);
                    AssignTable(x, d, codebook, codes);
                    break;
                default:
                    d = TableScale(x, _fixedTable);
                    AssignTable(x, d, _fixedTable, codes);
                    break;
            }
            EncodeBlock(dst.Slice(b * BlockBytes, BlockBytes), d, m, codes, Family == EdgeQuantFamily.KMeans ? codebook : default);
        }
    }

    /// <summary>Affine header for values in [min, max]: d = (max − min)/(2^n − 1), m = min + 2^(n−1)·d, both fp16-rounded.</summary>
    public static (float D, float M) AffineRange(ReadOnlySpan<float> x, int bits, float clip = 1f)
    {
        float min = float.MaxValue, max = float.MinValue;
        foreach (var v in x)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        return AffineFromRange(min * clip, max * clip, bits);
    }

    /// <summary>Affine header for an explicit range.</summary>
    public static (float D, float M) AffineFromRange(float min, float max, int bits)
    {
        float d = Half((max - min) / ((1 << bits) - 1));
        float m = Half(min + ((1 << (bits - 1)) * d));
        return (d, m);
    }

    /// <summary>Symmetric scale: the value of largest magnitude maps to −2^(n−1) (ggml's Q4_0 rule), fp16-rounded.</summary>
    public static float SymmetricScale(ReadOnlySpan<float> x, int bits, float clip = 1f)
    {
        float amax = 0, max = 0;
        foreach (var v in x)
        {
            if (MathF.Abs(v) > amax)
            {
                amax = MathF.Abs(v);
                max = v;
            }
        }
        return Half(max * clip / -(1 << (bits - 1)));
    }

    /// <summary>Table scale: absmax over the table's largest magnitude, fp16-rounded.</summary>
    public static float TableScale(ReadOnlySpan<float> x, ReadOnlySpan<sbyte> table, float clip = 1f)
    {
        float amax = 0;
        foreach (var v in x)
        {
            amax = Math.Max(amax, MathF.Abs(v));
        }
        int tmax = 0;
        foreach (var t in table)
        {
            tmax = Math.Max(tmax, Math.Abs((int)t));
        }
        return tmax == 0 ? 0 : Half(amax * clip / tmax);
    }

    /// <summary>Nearest code for affine/symmetric: <c>u = clamp(round((x − m)/d) + 2^(n−1))</c>.</summary>
    public void AssignAffine(ReadOnlySpan<float> x, float d, float m, Span<byte> codes)
    {
        float id = d != 0 ? 1 / d : 0;
        int max = Levels - 1;
        for (int j = 0; j < x.Length; j++)
        {
            codes[j] = (byte)Math.Clamp((int)MathF.Round((x[j] - m) * id) + Offset, 0, max);
        }
    }

    /// <summary>Nearest code of a single value (affine/symmetric).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int NearestAffine(float x, float d, float m) =>
        Math.Clamp((d != 0 ? (int)MathF.Round((x - m) / d) : 0) + Offset, 0, Levels - 1);

    /// <summary>Nearest table entry of each <c>x/d</c>.</summary>
    public static void AssignTable(ReadOnlySpan<float> x, float d, ReadOnlySpan<sbyte> table, Span<byte> codes)
    {
        float id = d != 0 ? 1 / d : 0;
        for (int j = 0; j < x.Length; j++)
        {
            codes[j] = (byte)NearestIndex(x[j] * id, table);
        }
    }

    /// <summary>Index of the table entry nearest to <paramref name="v"/> (first on ties).</summary>
    public static int NearestIndex(float v, ReadOnlySpan<sbyte> table)
    {
        int best = 0;
        float bestErr = float.MaxValue;
        for (int i = 0; i < table.Length; i++)
        {
            float e = MathF.Abs(v - table[i]);
            if (e < bestErr)
            {
                bestErr = e;
                best = i;
            }
        }
        return best;
    }

    /// <summary>Int8 codebook for float centroids: d = max|c|/127 (fp16), entries round(c/d). Returns d.</summary>
    public static float CodebookFromCentroids(ReadOnlySpan<float> centroids, Span<sbyte> codebook)
    {
        float amax = 0;
        foreach (var c in centroids)
        {
            amax = Math.Max(amax, MathF.Abs(c));
        }
        float d = Half(amax / 127);
        for (int i = 0; i < centroids.Length; i++)
        {
            codebook[i] = d == 0 ? (sbyte)0 : (sbyte)Math.Clamp((int)MathF.Round(centroids[i] / d), -127, 127);
        }
        return d;
    }

    /// <summary>Scalar dot with Q8_0 (Q8_1 for affine) activations: exact integer sums per 32, then
    /// <c>Σ_blocks d·Σ_sub sumi·d_y + m·Σ_sub s_y</c>.</summary>
    /// <exception cref="ArgumentException">n is not whole blocks, or a row is too short.</exception>
    public float VecDotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        int nb = DotBlocks(n, weights.Length, activations.Length);
        int ab = ActivationBytes, qOff = ab - 32;
        Span<byte> codes = stackalloc byte[Group];
        Span<sbyte> table = stackalloc sbyte[16];
        float sum = 0;
        for (int b = 0; b < nb; b++)
        {
            DecodeBlock(weights.Slice(b * BlockBytes, BlockBytes), codes, out float d, out float m, table);
            float accG = 0, accS = 0;
            for (int s = 0; s < Group / 32; s++)
            {
                var y = activations.Slice(((b * Group / 32) + s) * ab, ab);
                int sumi = 0;
                for (int j = 0; j < 32; j++)
                {
                    sumi += Value(codes[(s * 32) + j], table) * (sbyte)y[qOff + j];
                }
                accG += sumi * Fp16Conversions.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(y));
                if (Family == EdgeQuantFamily.Affine)
                {
                    accS += Fp16Conversions.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(y[2..]));
                }
            }
            sum += (d * accG) + (m * accS);
        }
        return sum;
    }

    /// <summary>The SIMD dot (portable Vector128: SSE/AVX on x86, AdvSimd on Arm); equal to
    /// <see cref="VecDotReference"/> bit for bit (same integer sums, same float order).</summary>
    /// <exception cref="ArgumentException">n is not whole blocks, or a row is too short.</exception>
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
            return Family switch
            {
                EdgeQuantFamily.Affine => DotSimd<AffineValues>(pw, pa, nb),
                EdgeQuantFamily.Symmetric => DotSimd<OffsetValues>(pw, pa, nb),
                _ => DotSimd<TableValues>(pw, pa, nb),
            };
        }
    }

    private int ActivationBytes => Family == EdgeQuantFamily.Affine ? 36 : 34;

    private float DotSimd<TMap>(byte* x, byte* y, int nb)
        where TMap : struct, IValueMap
    {
        int ab = ActivationBytes, qOff = ab - 32, sub = Group / 32, subBytes = SubBytes, bits = Bits;
        var offset = Vector128.Create((byte)Offset);
        sbyte* tableBytes = stackalloc sbyte[16];
        Vector128<sbyte> table = default;
        if (HasTable && Family != EdgeQuantFamily.KMeans)
        {
            _fixedTable.CopyTo(new Span<sbyte>(tableBytes, 16));
            table = Vector128.Load(tableBytes);
        }
        float sum = 0;
        for (int b = 0; b < nb; b++, x += BlockBytes)
        {
            float d = Fp16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(x));
            float m = TMap.HasMin ? Fp16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(x + 2)) : 0f;
            if (Family == EdgeQuantFamily.KMeans)
            {
                new Span<sbyte>(tableBytes, 16).Clear();
                new ReadOnlySpan<sbyte>(x + 2, Levels).CopyTo(new Span<sbyte>(tableBytes, 16));
                table = Vector128.Load(tableBytes);
            }
            byte* codes = x + HeaderBytes;
            float accG = 0, accS = 0;
            for (int s = 0; s < sub; s++, codes += subBytes, y += ab)
            {
                Unpack(codes, bits, out var lo, out var hi);
                Vector128<int> lanes = LegacyInt8.Dot(TMap.Map(lo, offset, table), Vector128.Load((sbyte*)(y + qOff)))
                    + LegacyInt8.Dot(TMap.Map(hi, offset, table), Vector128.Load((sbyte*)(y + qOff + 16)));
                accG += Vector128.Sum(lanes) * Fp16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(y));
                if (TMap.HasMin)
                {
                    accS += Fp16Conversions.ToFloat(Unsafe.ReadUnaligned<ushort>(y + 2));
                }
            }
            sum += (d * accG) + (m * accS);
        }
        return sum;
    }

    /// <summary>Codes of one sub-block: elements 0..15 in <paramref name="lo"/>, 16..31 in <paramref name="hi"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Unpack(byte* p, int bits, out Vector128<byte> lo, out Vector128<byte> hi)
    {
        if (bits == 4)
        {
            var q = Vector128.Load(p);
            lo = q & Vector128.Create((byte)0x0F);
            hi = Vector128.ShiftRightLogical(q, 4);
            return;
        }
        if (bits == 8)
        {
            lo = Vector128.Load(p);
            hi = Vector128.Load(p + 16);
            return;
        }
        lo = default;
        hi = default;
        for (int plane = 0; plane < bits; plane++)
        {
            uint w = Unsafe.ReadUnaligned<uint>(p + (4 * plane));
            var bit = Vector128.Create((byte)(1 << plane));
            lo |= Spread(w & 0xFFFF) & bit;
            hi |= Spread(w >> 16) & bit;
        }
    }

    /// <summary>16 bytes, byte j all ones when bit j of <paramref name="bits"/> is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Spread(uint bits)
    {
        Vector128<byte> spread = Vector128.Create((bits & 0xFF) * 0x0101_0101_0101_0101UL, ((bits >> 8) & 0xFF) * 0x0101_0101_0101_0101UL).AsByte();
        Vector128<byte> bit = Vector128.Create(0x8040_2010_0804_0201UL).AsByte();
        return Vector128.Equals(spread & bit, bit);
    }

    private int Blocks(int elements, int bytes, string name)
    {
        if (elements % Group != 0)
        {
            throw new ArgumentException($"{elements} elements are not whole {EdgeQuantTypes.Name(Family, Bits, Group)} blocks of {Group}", name);
        }
        int nb = elements / Group;
        if (bytes < (long)nb * BlockBytes)
        {
            throw new ArgumentException($"{bytes} bytes given, {(long)nb * BlockBytes} needed for {elements} elements of {EdgeQuantTypes.Name(Family, Bits, Group)}");
        }
        return nb;
    }

    private int DotBlocks(int n, int weightsLength, int activationsLength)
    {
        if (n < 0 || n % Group != 0)
        {
            throw new ArgumentException($"n = {n} is not whole {EdgeQuantTypes.Name(Family, Bits, Group)} blocks of {Group}");
        }
        int nb = n / Group;
        if (weightsLength < (long)nb * BlockBytes || activationsLength < (long)n / 32 * ActivationBytes)
        {
            throw new ArgumentException("a row is shorter than n elements need");
        }
        return nb;
    }

    private interface IValueMap
    {
        static abstract bool HasMin { get; }

        static abstract Vector128<sbyte> Map(Vector128<byte> codes, Vector128<byte> offset, Vector128<sbyte> table);
    }

    private readonly struct OffsetValues : IValueMap
    {
        public static bool HasMin => false;

        public static Vector128<sbyte> Map(Vector128<byte> codes, Vector128<byte> offset, Vector128<sbyte> table) => (codes - offset).AsSByte();
    }

    private readonly struct AffineValues : IValueMap
    {
        public static bool HasMin => true;

        public static Vector128<sbyte> Map(Vector128<byte> codes, Vector128<byte> offset, Vector128<sbyte> table) => (codes - offset).AsSByte();
    }

    private readonly struct TableValues : IValueMap
    {
        public static bool HasMin => false;

        public static Vector128<sbyte> Map(Vector128<byte> codes, Vector128<byte> offset, Vector128<sbyte> table) =>
            Vector128.ShuffleNative(table, codes.AsSByte());
    }
}
