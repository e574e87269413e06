using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Tensors.Tests.Quants;

/// <summary>The block structs are the ggml-common.h layouts, byte for byte.</summary>
public class LegacyBlockLayoutTests
{
    [Fact]
    public unsafe void BlockStructSizesMatchTheLayoutTable()
    {
        Assert.Equal(GgmlTypes.Layout(GgmlType.Q4_0).TypeSize, sizeof(BlockQ4_0));
        Assert.Equal(GgmlTypes.Layout(GgmlType.Q4_1).TypeSize, sizeof(BlockQ4_1));
        Assert.Equal(GgmlTypes.Layout(GgmlType.Q5_0).TypeSize, sizeof(BlockQ5_0));
        Assert.Equal(GgmlTypes.Layout(GgmlType.Q5_1).TypeSize, sizeof(BlockQ5_1));
        Assert.Equal(GgmlTypes.Layout(GgmlType.Q8_0).TypeSize, sizeof(BlockQ8_0));
        Assert.Equal(GgmlTypes.Layout(GgmlType.Q8_1).TypeSize, sizeof(BlockQ8_1));
        Assert.Equal(GgmlTypes.Layout(GgmlType.IQ4_NL).TypeSize, sizeof(BlockIQ4_NL));
        Assert.Equal(BlockQ4_0.Bytes, sizeof(BlockQ4_0));
        Assert.Equal(BlockQ4_1.Bytes, sizeof(BlockQ4_1));
        Assert.Equal(BlockQ5_0.Bytes, sizeof(BlockQ5_0));
        Assert.Equal(BlockQ5_1.Bytes, sizeof(BlockQ5_1));
        Assert.Equal(BlockQ8_0.Bytes, sizeof(BlockQ8_0));
        Assert.Equal(BlockQ8_1.Bytes, sizeof(BlockQ8_1));
        Assert.Equal(BlockIQ4_NL.Bytes, sizeof(BlockIQ4_NL));
    }

    [Fact]
    public unsafe void FieldOffsetsMatchGgml()
    {
        BlockQ5_1 b = default;
        Assert.Equal(2, (byte*)&b.M - (byte*)&b);
        Assert.Equal(4, b.Qh - (byte*)&b);
        Assert.Equal(8, b.Qs - (byte*)&b);
        BlockQ5_0 c = default;
        Assert.Equal(2, c.Qh - (byte*)&c);
        Assert.Equal(6, c.Qs - (byte*)&c);
        BlockQ8_1 e = default;
        Assert.Equal(2, (byte*)&e.S - (byte*)&e);
        Assert.Equal(4, (byte*)e.Qs - (byte*)&e);
    }

    [Fact]
    public void TheIsaTiersReportedHereAreUsable()
    {
        Assert.Contains(LegacyIsa.Scalar, LegacyIsas.Supported);
        Assert.True(LegacyIsas.IsSupported(LegacyIsas.Best));
    }
}
