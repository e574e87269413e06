using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeAgent.Tensors.Kernels;

/// <summary>
/// Vectorised e^x, the polynomial of Arm's optimized-routines <c>expf</c> in the form ggml's CPU backend uses
/// for softmax and SiLU (maximum error 1.45 ulp + 0.5; x above 88.38 gives +∞, below −103.97 gives 0).
/// Using the same algorithm, constants and fused-multiply-add structure as llama.cpp makes our activations equal
/// to its bit for bit, which matters because a one-ulp difference before an int8 activation quantization can
/// flip a code. Every lane is computed independently, so all vector widths and the scalar form agree exactly.
/// </summary>
public static class FastExp
{
    private static readonly float Shift = BitConverter.UInt32BitsToSingle(0x4B400000); // 0x1.8p23            
    private static readonly float Log2E = BitConverter.UInt32BitsToSingle(0x3FB8AA3B); // 0x1.715476p+0
    private static readonly float Ln2Hi = BitConverter.UInt32BitsToSingle(0x3F317200); // 0x1.62e4p-1
    private static readonly float Ln2Lo = BitConverter.UInt32BitsToSingle(0x35BFBE8E); // 0x1.7f7d1cp-20
    private static readonly float C5 = BitConverter.UInt32BitsToSingle(0x3C072010); // 0x1.0e4020p-7
    private static readonly float C4 = BitConverter.UInt32BitsToSingle(0x3D2B9F17); // 0x1.573e2ep-5
    private static readonly float C3 = BitConverter.UInt32BitsToSingle(0x3E2AAF33); // 0x1.555e66p-3
    private static readonly float C2 = BitConverter.UInt32BitsToSingle(0x3EFFFEDB); // 0x1.fffdb6p-2
    private static readonly float C1 = BitConverter.UInt32BitsToSingle(0x3F7FFFF6); // 0x1.ffffecp-1

    /// <summary>e^x for one value, bit-identical to each lane of the vector forms.</summary>
    public static float Exp(float x)
    {
        float z = MathF.FusedMultiplyAdd(x, Log2E, Shift);
        float n = z - Shift;
        float b = MathF.FusedMultiplyAdd(-n, Ln2Lo, MathF.FusedMultiplyAdd(-n, Ln2Hi, x));
        float u = b * b;
        float j = MathF.FusedMultiplyAdd(
            MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(C5, b, C4), u, MathF.FusedMultiplyAdd(C3, b, C2)),
            u,
            MathF.FusedMultiplyAdd(C1, b, 1f));
        if (MathF.Abs(n) > 192f)
        {
            return n <= 0 ? 0f : float.PositiveInfinity;
        }
        if (float.IsNaN(n))
        {
            return float.NaN;
        }
        int ni = (int)n;
        int n1 = ni >> 1;
        // j·2^n in two exact-then-rounded steps, like scalef: j·2^n1 stays normal, the second product rounds once.
        return j * BitConverter.Int32BitsToSingle((n1 + 127) << 23) * BitConverter.Int32BitsToSingle((ni - n1 + 127) << 23);
    }

    /// <summary>e^x lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var z = Vector512.FusedMultiplyAdd(x, Vector512.Create(Log2E), Vector512.Create(Shift));
        var n = z - Vector512.Create(Shift);
        var b = Vector512.FusedMultiplyAdd(-n, Vector512.Create(Ln2Lo), Vector512.FusedMultiplyAdd(-n, Vector512.Create(Ln2Hi), x));
        var u = b * b;
        var j = Vector512.FusedMultiplyAdd(
            Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(Vector512.Create(C5), b, Vector512.Create(C4)), u,
                Vector512.FusedMultiplyAdd(Vector512.Create(C3), b, Vector512.Create(C2))),
            u,
            Vector512.FusedMultiplyAdd(Vector512.Create(C1), b, Vector512<float>.One));
        var big = Vector512.GreaterThan(Vector512.Abs(n), Vector512.Create(192f));
        var ni = Vector512.ConvertToInt32(Vector512.ConditionalSelect(big, Vector512<float>.Zero, n));
        var n1 = Vector512.ShiftRightArithmetic(ni, 1);
        var s1 = Vector512.ShiftLeft(n1 + Vector512.Create(127), 23).AsSingle();
        var s2 = Vector512.ShiftLeft(ni - n1 + Vector512.Create(127), 23).AsSingle();
        var res = j * s1 * s2;
        if (big == Vector512<int>.Zero.AsSingle())
        {
            return res;
        }
        var alt = Vector512.ConditionalSelect(Vector512.LessThanOrEqual(n, Vector512<float>.Zero), Vector512<float>.Zero, Vector512.Create(float.PositiveInfinity));
        return Vector512.ConditionalSelect(big, alt, res);
    }

    /// <summary>e^x lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var z = Vector256.FusedMultiplyAdd(x, Vector256.Create(Log2E), Vector256.Create(Shift));
        var n = z - Vector256.Create(Shift);
        var b = Vector256.FusedMultiplyAdd(-n, Vector256.Create(Ln2Lo), Vector256.FusedMultiplyAdd(-n, Vector256.Create(Ln2Hi), x));
        var u = b * b;
        var j = Vector256.FusedMultiplyAdd(
            Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(Vector256.Create(C5), b, Vector256.Create(C4)), u,
                Vector256.FusedMultiplyAdd(Vector256.Create(C3), b, Vector256.Create(C2))),
            u,
            Vector256.FusedMultiplyAdd(Vector256.Create(C1), b, Vector256<float>.One));
        var big = Vector256.GreaterThan(Vector256.Abs(n), Vector256.Create(192f));
        var ni = Vector256.ConvertToInt32(Vector256.ConditionalSelect(big, Vector256<float>.Zero, n));
        var n1 = Vector256.ShiftRightArithmetic(ni, 1);
        var s1 = Vector256.ShiftLeft(n1 + Vector256.Create(127), 23).AsSingle();
        var s2 = Vector256.ShiftLeft(ni - n1 + Vector256.Create(127), 23).AsSingle();
        var res = j * s1 * s2;
        if (big == Vector256<int>.Zero.AsSingle())
        {
            return res;
        }
        var alt = Vector256.ConditionalSelect(Vector256.LessThanOrEqual(n, Vector256<float>.Zero), Vector256<float>.Zero, Vector256.Create(float.PositiveInfinity));
        return Vector256.ConditionalSelect(big, alt, res);
    }
}
