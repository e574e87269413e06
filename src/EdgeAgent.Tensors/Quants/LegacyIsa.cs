using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// Instruction-set tiers the legacy-quant and float-row kernels are written for. A tier implies every tier below
/// it, so a kernel for tier N may fall back to tier N-1 code for remainders.
/// </summary>
internal enum LegacyIsa
{
    /// <summary>Plain scalar code: the reference kernels.</summary>
    Scalar = 0,

    /// <summary>Portable 128-bit <see cref="Vector128"/> code only (SSE on x86, AdvSimd on Arm).</summary>
    Vector128 = 1,

    /// <summary>256-bit AVX2 with FMA.</summary>
    Avx2 = 2,

    /// <summary>512-bit AVX-512 F/BW, taken only when the runtime reports <see cref="Vector512"/> as accelerated.</summary>
    Avx512 = 3,
}

/// <summary>Detection of the widest <see cref="LegacyIsa"/> this process can run.</summary>
internal static class LegacyIsas
{
    /// <summary>The widest tier available; a static readonly, so tiered JIT folds the dispatch on it away.</summary>
    public static readonly LegacyIsa Best = Detect();

    /// <summary>True when kernels of <paramref name="isa"/> can run here.</summary>
    public static bool IsSupported(LegacyIsa isa) => isa <= Best;

    /// <summary>Every tier that can run here, scalar first.</summary>
    public static IEnumerable<LegacyIsa> Supported
    {
        get
        {
            for (var isa = LegacyIsa.Scalar; isa <= Best; isa++)
            {
                yield return isa;
            }
        }
    }

    private static LegacyIsa Detect()
    {
        // The SIMD kernels read multi-byte block fields in host order; GGUF data is little-endian.
        if (!BitConverter.IsLittleEndian)
        {
            return LegacyIsa.Scalar;
        }
        if (Avx512BW.IsSupported && Avx512F.VL.IsSupported && Vector512.IsHardwareAccelerated && Avx2.IsSupported && Fma.IsSupported)
        {
            return LegacyIsa.Avx512;
        }
        if (Avx2.IsSupported && Fma.IsSupported)
        {
            return LegacyIsa.Avx2;
        }
        return Vector128.IsHardwareAccelerated ? LegacyIsa.Vector128 : LegacyIsa.Scalar;
    }
}
