using EdgeAgent.Tensors.Quants;
using static EdgeAgent.Tensors.Tests.Quants.KQuantTestData;

namespace EdgeAgent.Tensors.Tests.Quants;

public class KQuantDotTests
{
    public static TheoryData<string> Formats => FormatNames;

    public static TheoryData<string, KIsaArg> FormatTiers => FormatsAndTiers;

    private static readonly int[] BlockCounts = [0, 1, 2, 3, 4, 5, 6, 7, 11];

    /// <summary>|Σ w·a| tolerance: float rounding of per-block partial sums, relative to the sum of |products|.</summary>
    private static double Tolerance(float[] w, float[] a, int n)
    {
        double s = 0;
        for (int i = 0; i < n; i++)
        {
            s += Math.Abs((double)w[i] * a[i]);
        }
        return 1e-5 * s + 1e-30;
    }

    [Theory]
    [MemberData(nameof(FormatTiers))]
    public void EveryTierMatchesTheReference(string name, KIsaArg isa)
    {
        if (!TierRuns(isa))
        {
            return;
        }
        KFormat f = ByName(name);
        VecDot dot = f.DotOn(isa);
        foreach (int nb in BlockCounts)
        {
            int n = nb * QK;
            float[] x = Gaussian(n, seed: 100 + nb);
            float[] a = Gaussian(n, seed: 200 + nb, scale: 3f);
            byte[] w = Quantize(f, x);
            byte[] q8 = QuantizeQ8K(a);
            float expected = f.VecDotReference(w, q8, n);
            float actual = dot(w, q8, n);
            double tol = Tolerance(Dequantize(f, w, n), DequantizeQ8K(q8, n), n);
            Assert.True(Math.Abs(expected - actual) <= tol, $"{name}/{isa} nb={nb}: {actual} vs reference {expected} (tol {tol})");
        }
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void PublicVecDotMatchesTheReferenceOnEdgeShapedData(string name)
    {
        KFormat f = ByName(name);
        foreach (int nb in BlockCounts)
        {
            int n = nb * QK;
            float[] x = Portable(nb, 7);
            float[] a = Portable(nb, 11);
            Array.Reverse(a); // different shapes against each other
            byte[] w = Quantize(f, x);
            byte[] q8 = QuantizeQ8K(a);
            float expected = f.VecDotReference(w, q8, n);
            float actual = f.VecDot(w, q8, n);
            double tol = Tolerance(Dequantize(f, w, n), DequantizeQ8K(q8, n), n);
            Assert.True(Math.Abs(expected - actual) <= tol, $"{name} nb={nb}: {actual} vs reference {expected} (tol {tol})");
        }
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void DotMatchesDequantizedProductInDouble(string name)
    {
        KFormat f = ByName(name);
        const int nb = 5, n = nb * QK;
        float[] x = Gaussian(n, seed: 31);
        float[] a = Gaussian(n, seed: 32, scale: 0.5f);
        byte[] w = Quantize(f, x);
        byte[] q8 = QuantizeQ8K(a);
        float[] wd = Dequantize(f, w, n);
        float[] ad = DequantizeQ8K(q8, n);
        double exact = 0;
        for (int i = 0; i < n; i++)
        {
            exact += (double)wd[i] * ad[i];
        }
        double tol = Tolerance(wd, ad, n);
        Assert.True(Math.Abs(exact - f.VecDotReference(w, q8, n)) <= tol, $"{name} reference vs double {exact}");
        Assert.True(Math.Abs(exact - f.VecDot(w, q8, n)) <= tol, $"{name} fast vs double {exact}");
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void RegistryWiresTheKernelsWithQ8KActivations(string name)
    {
        KFormat f = ByName(name);
        QuantTraits traits = QuantRegistry.Get(f.Type);
        Assert.Equal(GgmlType.Q8_K, traits.VecDotType);
        Assert.Equal(f.BlockBytes, traits.TypeSize);
        float[] x = Gaussian(2 * QK, seed: 5);
        float[] a = Gaussian(2 * QK, seed: 6);
        byte[] w = new byte[2 * f.BlockBytes];
        traits.Quantize(x, w);
        byte[] q8 = new byte[2 * 292];
        QuantRegistry.Get(GgmlType.Q8_K).Quantize(a, q8);
        Assert.Equal(f.VecDotReference(w, q8, 2 * QK), traits.VecDotReference!(w, q8, 2 * QK));
        Assert.Equal(f.VecDot(w, q8, 2 * QK), traits.VecDot!(w, q8, 2 * QK));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void ArgumentsAreCheckedAtTheBoundary(string name)
    {
        KFormat f = ByName(name);
        byte[] w = new byte[2 * f.BlockBytes];
        byte[] q8 = new byte[2 * 292];
        Assert.Equal(0f, f.VecDot(w, q8, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => f.VecDot(w, q8, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => f.VecDotReference(w, q8, -QK));
        Assert.Throws<ArgumentException>(() => f.VecDot(w.AsSpan(1), q8, 2 * QK));
        Assert.Throws<ArgumentException>(() => f.VecDot(w, q8.AsSpan(0, 291 + 292), 2 * QK));
        Assert.Throws<ArgumentException>(() => f.Dequantize(w, new float[3 * QK]));
        Assert.Throws<ArgumentException>(() => f.Dequantize(w, new float[QK + 1]));
        Assert.Throws<ArgumentException>(() => f.QuantizeReference(new float[QK + 8], new byte[2 * f.BlockBytes]));
        Assert.Throws<ArgumentException>(() => f.QuantizeReference(new float[2 * QK], new byte[2 * f.BlockBytes - 1]));
    }

    internal static float[] DequantizeQ8K(byte[] q8, int n)
    {
        var y = new float[n];
        Q8_KFormat.Dequantize(q8, y);
        return y;
    }
}
