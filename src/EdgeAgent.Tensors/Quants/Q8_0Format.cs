namespace EdgeAgent.Tensors.Quants;

/// <summary>Placeholder: Q8_0 kernels are being written (see QuantRegistry).</summary>
public static class Q8_0Format
{
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => throw new NotSupportedException("Q8_0 dequantize not implemented yet");

    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst) => throw new NotSupportedException("Q8_0 quantize not implemented yet");

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst) => QuantizeReference(src, dst);

    public static float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) => VecDotReference(weights, activations, n);

    public static float VecDotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) => throw new NotSupportedException("Q8_0 dot not implemented yet");
}
