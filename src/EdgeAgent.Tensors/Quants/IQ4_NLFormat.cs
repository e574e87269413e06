namespace EdgeAgent.Tensors.Quants;

/// <summary>Placeholder: IQ4_NL kernels are being written (see QuantRegistry).</summary>
public static class IQ4_NLFormat
{
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => throw new NotSupportedException("IQ4_NL dequantize not implemented yet");

    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst) => throw new NotSupportedException("IQ4_NL quantize not implemented yet");

    public static float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) => VecDotReference(weights, activations, n);

    public static float VecDotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) => throw new NotSupportedException("IQ4_NL dot not implemented yet");
}
