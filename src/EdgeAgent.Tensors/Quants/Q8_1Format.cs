namespace EdgeAgent.Tensors.Quants;

/// <summary>Placeholder: Q8_1 kernels are being written (see QuantRegistry).</summary>
public static class Q8_1Format
{
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => throw new NotSupportedException("Q8_1 dequantize not implemented yet");

    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst) => throw new NotSupportedException("Q8_1 quantize not implemented yet");

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst) => QuantizeReference(src, dst);
}
