namespace EdgeAgent.Tensors.Quants;

/// <summary>Placeholder: Q3_K kernels are being written (see QuantRegistry).</summary>
public static class Q3_KFormat
{
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => throw new NotSupportedException("Q3_K dequantize not implemented yet");

    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst) => throw new NotSupportedException("Q3_K quantize not implemented yet");

    public static float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) => VecDotReference(weights, activations, n);

    public static float VecDotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) => throw new NotSupportedException("Q3_K dot not implemented yet");
}
