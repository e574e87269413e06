using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// Vectorised K-quant dequantization, generic over the format. Each element is computed as ggml's
/// dequantize_row_* does, <c>(d·scale_g)·(u − offset) − dmin·min_g</c> with a separate rounding per operation
/// (no FMA), so the result is bit-identical to the scalar reference.
/// </summary>
internal static unsafe class KQuantDequant
{
    public static void Dequantize<T>(byte* x, float* y, int nb) where T : struct, IKQuant<T>
    {
        if (!Vector256.IsHardwareAccelerated)
        {
            T.DequantizeReference(x, y, nb);
            return;
        }
        for (int i = 0; i < nb; i++, x += T.BlockBytes)
        {
            KBlockScales s = T.Scales(x);
            for (int k = 0; k < 8; k++, y += 32)
            {
                (Vector256<ushort> lo, Vector256<ushort> hi) = Vector256.Widen(T.Unpack256(x, k));
                Group<T>(in s, lo, 2 * k, y);
                Group<T>(in s, hi, 2 * k + 1, y + 16);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Group<T>(in KBlockScales s, Vector256<ushort> u, int g, float* y) where T : struct, IKQuant<T>
    {
        Vector256<float> a = Vector256.Create(s.D * s.Scales.GetElement(g));
        (Vector256<int> e0, Vector256<int> e1) = Vector256.Widen(u.AsInt16());
        Vector256<int> off = Vector256.Create(T.Offset);
        Vector256<float> f0 = Vector256.ConvertToSingle(e0 - off) * a;
        Vector256<float> f1 = Vector256.ConvertToSingle(e1 - off) * a;
        if (T.Offset == 0)
        {
            Vector256<float> b = Vector256.Create(s.DMin * s.Mins.GetElement(g));
            f0 -= b;
            f1 -= b;
        }
        f0.Store(y);
        f1.Store(y + 8);
    }
}
