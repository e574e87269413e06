namespace EdgeAgent.Tensors.Quants;

/// <summary>Placeholder: Q8_K kernels are being written (see QuantRegistry).</summary>
public static class Q8_KFormat
{
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => throw new NotSupportedException("Q8_K dequantize not implemented yet");

    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst) => throw new NotSupportedException("Q8_K quantize not implemented yet");

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst) => QuantizeReference(src, dst);
}
