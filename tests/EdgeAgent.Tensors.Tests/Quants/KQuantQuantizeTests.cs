using System.Security.Cryptography;
using EdgeAgent.Tensors.Quants;
using static EdgeAgent.Tensors.Tests.Quants.KQuantTestData;

namespace EdgeAgent.Tensors.Tests.Quants;

public class KQuantQuantizeTests
{
    public static TheoryData<string> Formats => FormatNames;

    public static TheoryData<KIsaArg> Tiers => new(Enum.GetValues<KIsaArg>());

    // Relative RMSE (rmse / rms of the data) of dequantize(quantizeReference(x)) on N(0, 1) data. Measured:
    // 0.0174 (Q6_K), 0.0363 (Q5_K), 0.0707 (Q4_K), 0.148 (Q3_K), 0.294 (Q2_K), about a uniform step/√12 of each
    // format's level spacing; the bounds leave ~15% headroom.
    [Theory]
    [InlineData("Q6_K", 0.020)]
    [InlineData("Q5_K", 0.042)]
    [InlineData("Q4_K", 0.080)]
    [InlineData("Q3_K", 0.17)]
    [InlineData("Q2_K", 0.34)]
    public void RoundTripErrorIsWithinTheFormatBound(string name, double bound)
    {
        double rel = RelativeRmse(ByName(name), Gaussian(32 * QK, seed: 9));
        Assert.True(rel < bound, $"{name}: relative RMSE {rel:F5} ≥ {bound}");
    }

    [Fact]
    public void RoundTripErrorIsOrderedByBits()
    {
        float[] x = Gaussian(32 * QK, seed: 10);
        double[] rel = [.. new[] { Q6K, Q5K, Q4K, Q3K, Q2K }.Select(f => RelativeRmse(f, x))];
        for (int i = 1; i < rel.Length; i++)
        {
            Assert.True(rel[i - 1] < rel[i], $"RMSE not increasing: {string.Join(", ", rel)}");
        }
    }

    [Fact]
    public void Q8KRoundTripIsWithinHalfAStep()
    {
        float[] x = Gaussian(8 * QK, seed: 12, scale: 4f);
        byte[] q = QuantizeQ8K(x);
        float[] y = KQuantDotTests.DequantizeQ8K(q, x.Length);
        for (int b = 0; b < 8; b++)
        {
            float d = Math.Abs(BitConverter.ToSingle(q, b * 292));
            for (int i = b * QK; i < (b + 1) * QK; i++)
            {
                Assert.True(Math.Abs(x[i] - y[i]) <= 0.5f * d * 1.0001f, $"element {i}: {x[i]} vs {y[i]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void VectorDequantizeIsBitIdenticalToTheScalarReference(string name)
    {
        KFormat f = ByName(name);
        foreach (float[] x in new[] { Gaussian(6 * QK, seed: 13), Portable(16, 99) })
        {
            byte[] q = Quantize(f, x);
            var fast = new float[x.Length];
            var reference = new float[x.Length];
            f.Dequantize(q, fast);
            f.DequantizeReference(q, reference);
            Assert.Equal(reference.Select(BitConverter.SingleToInt32Bits), fast.Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void Q8KQuantizeIsByteIdenticalToTheReference(KIsaArg isa)
    {
        if (!TierRuns(isa))
        {
            return;
        }
        var inputs = new List<float[]> { Gaussian(7 * QK, seed: 14), Portable(16, 5), new float[QK] };
        // Ties on magnitude: the first element of largest |x| fixes the sign of the scale.
        float[] ties = Gaussian(2 * QK, seed: 15, scale: 0.1f);
        ties[3] = -2f;
        ties[200] = 2f;
        ties[QK + 10] = 2f;
        ties[QK + 11] = -2f;
        inputs.Add(ties);
        foreach (float[] x in inputs)
        {
            byte[] reference = QuantizeQ8K(x);
            byte[] fast = new byte[reference.Length];
            fast.AsSpan().Fill(0xCD);
            Q8_KFormat.Quantize((KIsa)isa, x, fast);
            Assert.Equal(reference, fast);
        }
    }

    [Fact]
    public void Q8KTakesTheSignOfTheFirstLargestMagnitude()
    {
        var x = new float[QK];
        x[5] = -3f;
        x[9] = 3f;
        x[20] = 1.2f;
        byte[] q = QuantizeQ8K(x);
        float iscale = -127f / -3f;
        Assert.Equal(1 / iscale, BitConverter.ToSingle(q, 0));
        Assert.Equal(-127, (sbyte)q[4 + 5]);
        Assert.Equal(127, (sbyte)q[4 + 9]);
        Assert.Equal(51, (sbyte)q[4 + 20]); // 50.8
        Assert.Equal(0, BitConverter.ToInt16(q, 260 + 2 * 0)); // −127 + 127 in group 0
        Assert.Equal(51, BitConverter.ToInt16(q, 260 + 2 * 1));
    }

    [Fact]
    public void Q8KAllZeroBlockIsAllZeroBytes()
    {
        byte[] q = new byte[292];
        q.AsSpan().Fill(0xAB);
        Q8_KFormat.Quantize(new float[QK], q);
        Assert.All(q, b => Assert.Equal(0, b));
        q.AsSpan().Fill(0xAB);
        Q8_KFormat.QuantizeReference(new float[QK], q);
        Assert.All(q, b => Assert.Equal(0, b));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void AllZeroInputQuantizesToZeroBlocks(string name)
    {
        KFormat f = ByName(name);
        byte[] q = new byte[2 * f.BlockBytes];
        q.AsSpan().Fill(0x5A);
        f.QuantizeReference(new float[2 * QK], q);
        float[] y = Dequantize(f, q, 2 * QK);
        Assert.All(y, v => Assert.Equal(0f, v));
    }

    // SHA-256 of llama.cpp's own output (LLamaSharp.Backend.Cpu 0.30.0, libggml-base: quantize_row_*_ref and
    // dequantize_row_*) for Portable(16, 20250101): 16 super-blocks covering every edge shape.
    [Theory]
    [InlineData("Q2_K",
        "efb04682fb2b8a6e5b8567b1f77335fed5c5e03cf5737d7266cd0c0ab9bf8c0d",
        "e44064777d2116186d347b18f2c9f1e71f25f835e6883e7f8c2e73cd6b20d4b9")]
    [InlineData("Q3_K",
        "6ac63d845dee601dd31570f9d4977b458301a85db4ffae45cf2b104f2418b414",
        "5cb3717101cdea798a22072f4b4128b9a2a5c5e7079355fe1f82e18952896ebf")]
    [InlineData("Q4_K",
        "19248fc11ef557d3c4f4b1cd127549aa30cc06311f28e1bdbf532042705b73a8",
        "f29e55f57753de3e69109bc1fbd3e30cf23e5f1eda91f5922bd2835ca7d83cf2")]
    [InlineData("Q5_K",
        "a656ec8d2c9cad115006541c3b01898bf4c3235fb4f3706c132e168053d8e33c",
        "ee67dcc3010733f08a7da6f7c1c512b892dbf01953f0ee02ba8faaf8eba30c9c")]
    [InlineData("Q6_K",
        "27b6c38a6c62a7777df84747b3ee6cdb68dd2a59cafeac95c103227e79387446",
        "5623c196f9ecf40e4c6608688387642b209ba160d2e341bfbec43d4ce9d946b7")]
    public void OutputMatchesLlamaCppByteForByte(string name, string quantSha256, string dequantSha256)
    {
        KFormat f = ByName(name);
        float[] x = Portable(16, 20250101);
        byte[] q = Quantize(f, x);
        Assert.Equal(quantSha256, Convert.ToHexStringLower(SHA256.HashData(q)));
        float[] y = Dequantize(f, q, x.Length);
        Assert.Equal(dequantSha256, Convert.ToHexStringLower(SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(y.AsSpan()))));
    }

    [Fact]
    public void Q8KMatchesLlamaCppByteForByte()
    {
        // quantize_row_q8_K_ref on Portable(16, 20250102), written into a zeroed buffer: ggml leaves the bsums of
        // all-zero blocks unwritten, and we write zeros there.
        float[] x = Portable(16, 20250102);
        byte[] q = QuantizeQ8K(x);
        Assert.Equal("32bb31bbd97ce8098d3bf5d63b9a050e09d638c02ed1d849c5c37812420c983e", Convert.ToHexStringLower(SHA256.HashData(q)));
    }

    private static double RelativeRmse(KFormat f, float[] x)
    {
        float[] y = Dequantize(f, Quantize(f, x), x.Length);
        double rms = Math.Sqrt(x.Sum(v => (double)v * v) / x.Length);
        return Rmse(x, y) / rms;
    }
}
