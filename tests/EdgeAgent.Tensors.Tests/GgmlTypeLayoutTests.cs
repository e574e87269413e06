using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Tensors.Tests;

public class GgmlTypeLayoutTests
{
    // Block byte sizes from ggml-common.h static_asserts.
    [Theory]
    [InlineData(GgmlType.Q4_0, 32, 18)]
    [InlineData(GgmlType.Q4_1, 32, 20)]
    [InlineData(GgmlType.Q5_0, 32, 22)]
    [InlineData(GgmlType.Q5_1, 32, 24)]
    [InlineData(GgmlType.Q8_0, 32, 34)]
    [InlineData(GgmlType.Q8_1, 32, 36)]
    [InlineData(GgmlType.Q2_K, 256, 84)]
    [InlineData(GgmlType.Q3_K, 256, 110)]
    [InlineData(GgmlType.Q4_K, 256, 144)]
    [InlineData(GgmlType.Q5_K, 256, 176)]
    [InlineData(GgmlType.Q6_K, 256, 210)]
    [InlineData(GgmlType.Q8_K, 256, 292)]
    [InlineData(GgmlType.IQ4_NL, 32, 18)]
    public void BlockSizesMatchGgml(GgmlType type, int blockSize, int typeSize)
    {
        var layout = GgmlTypes.Layout(type);
        Assert.Equal(blockSize, layout.BlockSize);
        Assert.Equal(typeSize, layout.TypeSize);
        Assert.Equal(-1, layout.RowBytes(blockSize + 1));
        Assert.Equal(3L * typeSize, layout.RowBytes(3L * blockSize));
    }

    [Fact]
    public void UnknownTypeIsRejected()
    {
        Assert.False(GgmlTypes.IsKnown((GgmlType)99));
        Assert.Throws<NotSupportedException>(() => GgmlTypes.Layout((GgmlType)99));
    }
}
