namespace EdgeAgent.Tensors.Quants;

/// <summary>Placeholder: Q6_K kernels are being written (see QuantRegistry).</summary>
public static class Q6_KFormat
{
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => throw new NotSupportedException("Q6_K dequantize not implemented yet");

    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst) => throw new NotSupportedException("Q6_K quantize not implemented yet");

    public static float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) => VecDotReference(weights, activations, n);

    public static float VecDotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) => throw new NotSupportedException("Q6_K dot not implemented yet");
}
