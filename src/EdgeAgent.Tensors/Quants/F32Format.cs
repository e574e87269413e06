namespace EdgeAgent.Tensors.Quants;

/// <summary>Placeholder: F32 kernels are being written (see QuantRegistry).</summary>
public static class F32Format
{
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(src).CopyTo(dst);

    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst) => throw new NotSupportedException("F32 quantize not implemented yet");

    public static float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) => VecDotReference(weights, activations, n);

    public static float VecDotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) => throw new NotSupportedException("F32 dot not implemented yet");
}
