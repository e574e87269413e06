using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Tensors.Tests.Quants;

/// <summary>Seeded data and per-type dispatch shared by the legacy-quant and float-row tests.</summary>
internal static class LegacyTestData
{
    /// <summary>The 32-element weight formats with a dot product, and the activation type each pairs with.</summary>
    public static readonly GgmlType[] WeightTypes = [GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.IQ4_NL];

    /// <summary>All 32-element formats implemented here.</summary>
    public static readonly GgmlType[] BlockTypes = [.. WeightTypes, GgmlType.Q8_1];

    /// <summary>Block counts for the dot and quantizer tests: 0..8 and some odd larger ones.</summary>
    public static readonly int[] BlockCounts = [0, 1, 2, 3, 4, 5, 6, 7, 8, 13, 37];

    public static IEnumerable<object[]> WeightTypeRows() => WeightTypes.Select(t => new object[] { t });

    public static IEnumerable<object[]> BlockTypeRows() => BlockTypes.Select(t => new object[] { t });

    public static IEnumerable<object[]> IsaRows() => LegacyIsas.Supported.Select(i => new object[] { (int)i });

    public static IEnumerable<object[]> WeightTypeIsaRows() =>
        from t in WeightTypes from i in LegacyIsas.Supported select new object[] { t, (int)i };

    public static IEnumerable<object[]> BlockTypeIsaRows() =>
        from t in BlockTypes from i in LegacyIsas.Supported select new object[] { t, (int)i };

    public static QuantTraits Traits(GgmlType type) => QuantRegistry.Get(type);

    public static GgmlType ActivationType(GgmlType type) => Traits(type).VecDotType;

    /// <summary>
    /// Floats of several shapes, chosen by <paramref name="kind"/>: 0 normal-ish, 1 uniform, 2 heavy-tailed with
    /// outliers, 3 all positive with an offset, 4 tiny magnitudes, 5 with repeated extremes and exact zeros.
    /// </summary>
    public static float[] Floats(Random rng, int n, int kind)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = kind switch
            {
                0 => (float)Gaussian(rng),
                1 => (float)((rng.NextDouble() * 2) - 1) * 3,
                2 => (float)(Gaussian(rng) * (rng.Next(16) == 0 ? 40 : 1)),
                3 => 5 + (float)rng.NextDouble(),
                4 => (float)Gaussian(rng) * 1e-6f,
                _ => rng.Next(4) switch { 0 => 0f, 1 => 2.5f, 2 => -2.5f, _ => (float)Gaussian(rng) },
            };
        }
        return x;
    }

    public static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Random raw blocks: random quant bytes with a sane random fp16 d (and m / s) in each block.</summary>
    public static byte[] RawBlocks(Random rng, GgmlType type, int blocks)
    {
        int size = GgmlTypes.Layout(type).TypeSize;
        var b = new byte[blocks * size];
        rng.NextBytes(b);
        for (int i = 0; i < blocks; i++)
        {
            WriteHalf(b, i * size, RandomScale(rng));
            if (type is GgmlType.Q4_1 or GgmlType.Q5_1 or GgmlType.Q8_1)
            {
                WriteHalf(b, (i * size) + 2, RandomScale(rng) * 8);
            }
        }
        return b;
    }

    public static float RandomScale(Random rng) =>
        (float)Math.ScaleB(1 + rng.NextDouble(), rng.Next(-12, 2)) * (rng.Next(2) == 0 ? 1 : -1);

    public static void WriteHalf(byte[] b, int offset, float value) =>
        BitConverter.TryWriteBytes(b.AsSpan(offset, 2), BitConverter.HalfToUInt16Bits((Half)value));

    public static float ReadHalf(ReadOnlySpan<byte> b, int offset) => (float)BitConverter.ToHalf(b.Slice(offset, 2));

    /// <summary>Quantizes <paramref name="x"/> to <paramref name="type"/> with its reference quantizer.</summary>
    public static byte[] QuantizeReference(GgmlType type, float[] x)
    {
        var t = Traits(type);
        var y = new byte[x.Length / t.BlockSize * t.TypeSize];
        t.QuantizeReference(x, y);
        return y;
    }

    public static float[] Dequantize(GgmlType type, byte[] data, int n)
    {
        var y = new float[n];
        Traits(type).Dequantize(data, y);
        return y;
    }

    /// <summary>The fast dot of a tier.</summary>
    public static float VecDot(GgmlType type, ReadOnlySpan<byte> w, ReadOnlySpan<byte> a, int n, LegacyIsa isa) => type switch
    {
        GgmlType.F32 => F32Format.VecDot(w, a, n, isa),
        GgmlType.F16 => F16Format.VecDot(w, a, n, isa),
        GgmlType.BF16 => BF16Format.VecDot(w, a, n, isa),
        GgmlType.Q4_0 => Q4_0Format.VecDot(w, a, n, isa),
        GgmlType.Q4_1 => Q4_1Format.VecDot(w, a, n, isa),
        GgmlType.Q5_0 => Q5_0Format.VecDot(w, a, n, isa),
        GgmlType.Q5_1 => Q5_1Format.VecDot(w, a, n, isa),
        GgmlType.Q8_0 => Q8_0Format.VecDot(w, a, n, isa),
        GgmlType.IQ4_NL => IQ4_NLFormat.VecDot(w, a, n, isa),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>The dequantizer of a tier.</summary>
    public static void Dequantize(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst, LegacyIsa isa)
    {
        switch (type)
        {
            case GgmlType.F16: F16Format.Dequantize(src, dst, isa); break;
            case GgmlType.BF16: BF16Format.Dequantize(src, dst, isa); break;
            case GgmlType.Q4_0: Q4_0Format.Dequantize(src, dst, isa); break;
            case GgmlType.Q4_1: Q4_1Format.Dequantize(src, dst, isa); break;
            case GgmlType.Q5_0: Q5_0Format.Dequantize(src, dst, isa); break;
            case GgmlType.Q5_1: Q5_1Format.Dequantize(src, dst, isa); break;
            case GgmlType.Q8_0: Q8_0Format.Dequantize(src, dst, isa); break;
            case GgmlType.IQ4_NL: IQ4_NLFormat.Dequantize(src, dst, isa); break;
            case GgmlType.Q8_1: Q8_1Format.Dequantize(src, dst); break;
            default: throw new ArgumentOutOfRangeException(nameof(type));
        }
    }

    /// <summary>The activation quantizer of a tier.</summary>
    public static void Quantize(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst, LegacyIsa isa, bool cpu = false)
    {
        switch (type)
        {
            case GgmlType.F16: F16Format.Quantize(src, dst, isa); break;
            case GgmlType.BF16: BF16Format.Quantize(src, dst, isa); break;
            case GgmlType.Q8_0: Q8_0Format.Quantize(src, dst, isa, cpu); break;
            case GgmlType.Q8_1: Q8_1Format.Quantize(src, dst, isa, cpu); break;
            default: throw new ArgumentOutOfRangeException(nameof(type));
        }
    }

    /// <summary>Sum of |w_i * a_i| over the dequantized rows, in double: the scale of a dot's rounding error.</summary>
    public static double AbsProductSum(float[] w, float[] a)
    {
        double s = 0;
        for (int i = 0; i < w.Length; i++)
        {
            s += Math.Abs((double)w[i] * a[i]);
        }
        return s;
    }

    /// <summary>Dot of the dequantized rows in double.</summary>
    public static double DotDouble(float[] w, float[] a)
    {
        double s = 0;
        for (int i = 0; i < w.Length; i++)
        {
            s += (double)w[i] * a[i];
        }
        return s;
    }
}
