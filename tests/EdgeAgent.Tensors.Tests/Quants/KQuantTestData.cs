using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Tensors.Tests.Quants;

/// <summary>One K-quant weight format as the tests drive it: its public entry points and a tier-selectable dot.</summary>
public sealed record KFormat(
    string Name,
    GgmlType Type,
    int BlockBytes,
    QuantizeRow QuantizeReference,
    DequantizeRow Dequantize,
    DequantizeRow DequantizeReference,
    VecDot VecDot,
    VecDot VecDotReference,
    Func<KIsaArg, VecDot> DotOn)
{
    public override string ToString() => Name;
}

/// <summary>A <c>KIsa</c> tier, public so xunit theories can carry it.</summary>
public enum KIsaArg
{
    Scalar,
    Vector128,
    Avx2,
    Avx512,
}

/// <summary>Formats, tiers and deterministic data for the K-quant tests.</summary>
internal static unsafe class KQuantTestData
{
    public const int QK = 256;

    public static readonly KFormat Q2K = Make<Q2_KKernel>("Q2_K", GgmlType.Q2_K, 84,
        Q2_KFormat.QuantizeReference, Q2_KFormat.Dequantize, Q2_KFormat.VecDot, Q2_KFormat.VecDotReference);

    public static readonly KFormat Q3K = Make<Q3_KKernel>("Q3_K", GgmlType.Q3_K, 110,
        Q3_KFormat.QuantizeReference, Q3_KFormat.Dequantize, Q3_KFormat.VecDot, Q3_KFormat.VecDotReference);

    public static readonly KFormat Q4K = Make<Q4_KKernel>("Q4_K", GgmlType.Q4_K, 144,
        Q4_KFormat.QuantizeReference, Q4_KFormat.Dequantize, Q4_KFormat.VecDot, Q4_KFormat.VecDotReference);

    public static readonly KFormat Q5K = Make<Q5_KKernel>("Q5_K", GgmlType.Q5_K, 176,
        Q5_KFormat.QuantizeReference, Q5_KFormat.Dequantize, Q5_KFormat.VecDot, Q5_KFormat.VecDotReference);

    public static readonly KFormat Q6K = Make<Q6_KKernel>("Q6_K", GgmlType.Q6_K, 210,
        Q6_KFormat.QuantizeReference, Q6_KFormat.Dequantize, Q6_KFormat.VecDot, Q6_KFormat.VecDotReference);

    public static readonly KFormat[] All = [Q2K, Q3K, Q4K, Q5K, Q6K];

    public static KFormat ByName(string name) => All.Single(f => f.Name == name);

    public static TheoryData<string> FormatNames => new(All.Select(f => f.Name));

    /// <summary>Every (format, tier) pair, tiers the machine lacks included (those tests return early).</summary>
    public static TheoryData<string, KIsaArg> FormatsAndTiers
    {
        get
        {
            var data = new TheoryData<string, KIsaArg>();
            foreach (KFormat f in All)
            {
                foreach (KIsaArg isa in Enum.GetValues<KIsaArg>())
                {
                    data.Add(f.Name, isa);
                }
            }
            return data;
        }
    }

    public static bool TierRuns(KIsaArg isa) => KQuantDot.IsSupported((KIsa)isa);

    private static KFormat Make<T>(string name, GgmlType type, int bytes, QuantizeRow q, DequantizeRow dq, VecDot dot, VecDot dotRef)
        where T : struct, IKQuant<T>
    {
        return new KFormat(name, type, bytes, q, dq, DequantizeReference, dot, dotRef, isa => (w, a, n) =>
        {
            fixed (byte* x = w)
            fixed (byte* y = a)
            {
                return KQuantDot.Dot<T>((KIsa)isa, x, y, n / QK);
            }
        });

        static void DequantizeReference(ReadOnlySpan<byte> src, Span<float> dst)
        {
            fixed (byte* x = src)
            fixed (float* y = dst)
            {
                T.DequantizeReference(x, y, dst.Length / QK);
            }
        }
    }

    /// <summary>Seeded standard-normal-ish data (System.Random, Box–Muller).</summary>
    public static float[] Gaussian(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u = 1 - rng.NextDouble();
            double v = rng.NextDouble();
            x[i] = (float)(Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v)) * scale;
        }
        return x;
    }

    /// <summary>
    /// Platform-independent data: integer xorshift draws turned into floats by exact operations only (sums of four
    /// 23-bit uniforms, power-of-two scalings), so the values are bit-identical on every machine and runtime. Each
    /// 256-element block takes one of eight shapes that reach the quantizers' edge cases: plain, small, outliers,
    /// all positive, all negative, coarse ties, an all-zero block, constant 16-element groups.
    /// </summary>
    public static float[] Portable(int blocks, ulong seed)
    {
        var x = new float[blocks * QK];
        ulong s = seed | 1;
        for (int i = 0; i < x.Length; i++)
        {
            float g = 0;
            for (int k = 0; k < 4; k++)
            {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                g += (int)(s >> 41);
            }
            g = (g - 4 * 4194304f) * (1f / 2097152f); // roughly N(0, 1.15), exact
            int shape = (i / QK) % 8;
            x[i] = shape switch
            {
                0 => g,
                1 => g * (1f / 64),
                2 => (i % 29 == 0) ? g * 32 : g * (1f / 16),
                3 => MathF.Abs(g) + 0.5f,
                4 => -MathF.Abs(g) - 0.125f,
                5 => MathF.Round(g * 2) * 0.25f,
                6 => 0f,
                _ => (i / 16) % 3 == 0 ? 1.5f : g * 4096,
            };
        }
        return x;
    }

    public static byte[] QuantizeQ8K(float[] x)
    {
        var y = new byte[x.Length / QK * 292];
        Q8_KFormat.QuantizeReference(x, y);
        return y;
    }

    public static byte[] Quantize(KFormat f, float[] x)
    {
        var y = new byte[x.Length / QK * f.BlockBytes];
        f.QuantizeReference(x, y);
        return y;
    }

    public static float[] Dequantize(KFormat f, byte[] q, int n)
    {
        var y = new float[n];
        f.Dequantize(q, y);
        return y;
    }

    public static double Rmse(float[] a, float[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = (double)a[i] - b[i];
            s += d * d;
        }
        return Math.Sqrt(s / a.Length);
    }
}
