using System.Runtime.InteropServices;

namespace EdgeAgent.Tensors.Tests.Quants;

/// <summary>
/// llama.cpp's ggml, loaded from the LLamaSharp.Backend.Cpu package (its plain x86-64 build: no AVX, so no FMA
/// contraction in the C), as an oracle for bit-exact comparisons. Present on linux-x64 only; elsewhere
/// <see cref="Available"/> is false and the oracle tests have nothing to compare with.
/// </summary>
internal static unsafe class LegacyGgmlOracle
{
    private static readonly Lazy<(nint Base, nint Cpu)> Libraries = new(Load);

    /// <summary>True where the oracle libraries exist for this platform (linux-x64).</summary>
    public static bool Available => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    private static (nint, nint) Load()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "ggml-oracle");
        nint b = NativeLibrary.Load(Path.Combine(dir, "libggml-base.so"));
        nint c = NativeLibrary.Load(Path.Combine(dir, "libggml-cpu.so"));
        // Fills the fp16 lookup table GGML_CPU_FP16_TO_FP32 reads in builds without F16C.
        ((delegate* unmanaged<void>)NativeLibrary.GetExport(c, "ggml_cpu_init"))();
        return (b, c);
    }

    private static nint Base(string name) => NativeLibrary.GetExport(Libraries.Value.Base, name);

    private static nint Cpu(string name) => NativeLibrary.GetExport(Libraries.Value.Cpu, name);

    /// <summary><c>void quantize_row_X_ref(const float *, block_X *, int64_t)</c>.</summary>
    public static void QuantizeRow(string name, float[] x, byte[] y)
    {
        var f = (delegate* unmanaged<float*, byte*, long, void>)Base(name);
        fixed (float* px = x)
        fixed (byte* py = y)
        {
            f(px, py, x.Length);
        }
    }

    /// <summary><c>size_t quantize_iq4_nl(const float *, void *, int64_t nrow, int64_t n_per_row, const float * imatrix)</c>, no imatrix.</summary>
    public static void QuantizeIQ4_NL(float[] x, byte[] y, int rows)
    {
        var f = (delegate* unmanaged<float*, byte*, long, long, float*, nuint>)Base("quantize_iq4_nl");
        fixed (float* px = x)
        fixed (byte* py = y)
        {
            f(px, py, rows, x.Length / rows, null);
        }
    }

    /// <summary><c>void dequantize_row_X(const block_X *, float *, int64_t)</c> and the fp16/bf16 row widenings.</summary>
    public static void ToFloat(string name, byte[] x, float[] y)
    {
        var f = (delegate* unmanaged<byte*, float*, long, void>)Base(name);
        fixed (byte* px = x)
        fixed (float* py = y)
        {
            f(px, py, y.Length);
        }
    }

    /// <summary><c>ggml_vec_dot_X(int n, float * s, size_t bs, const void * x, size_t bx, const void * y, size_t by, int nrc)</c>.</summary>
    public static float VecDot(string name, int n, byte[] x, byte[] y)
    {
        var f = (delegate* unmanaged<int, float*, nuint, byte*, nuint, byte*, nuint, int, void>)Cpu(name);
        float s = float.NaN;
        fixed (byte* px = x)
        fixed (byte* py = y)
        {
            f(n, &s, 0, px, 0, py, 0, 1);
        }
        return s;
    }
}
