using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace EdgeAgent.Tensors.Quants;

/// <summary>Interim F32 kernels (to be replaced by the full implementation).</summary>
public static class F32Format
{
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => MemoryMarshal.Cast<byte, float>(src).CopyTo(dst);

    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst) => MemoryMarshal.AsBytes(src).CopyTo(dst);

    public static float VecDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        TensorPrimitives.Dot(MemoryMarshal.Cast<byte, float>(weights)[..n], MemoryMarshal.Cast<byte, float>(activations)[..n]);

    public static float VecDotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) => VecDot(weights, activations, n);
}
