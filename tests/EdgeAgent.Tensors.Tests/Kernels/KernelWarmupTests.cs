using EdgeAgent.Tensors.Kernels;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Tensors.Tests.Kernels;

/// <summary>The load-time warm-up (<see cref="KernelWarmup"/>) runs every weight type this engine multiplies, and
/// head sizes with and without the batched attention dots, without failing; types without a kernel are skipped.</summary>
public class KernelWarmupTests
{
    [Theory]
    [InlineData(64)]
    [InlineData(128)]
    [InlineData(48)]
    public void Every_supported_type_and_head_size_warms_without_failing(int headDim)
    {
        var types = Enum.GetValues<GgmlType>().Where(QuantRegistry.IsSupported).ToArray();
        Assert.Contains(GgmlType.Q4_K, types);
        Assert.Null(Record.Exception(() => KernelWarmup.Run(types, headDim)));
    }

    [Fact]
    public async Task Start_completes_even_for_types_it_cannot_multiply()
    {
        var task = KernelWarmup.Start([GgmlType.Q4_0, (GgmlType)9999, GgmlType.F32], 64);
        await task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(TaskStatus.RanToCompletion, task.Status);
    }
}
