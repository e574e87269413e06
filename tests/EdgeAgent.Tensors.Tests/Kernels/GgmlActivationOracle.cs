using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Tensors.Tests.Kernels;

/// <summary>
/// llama.cpp's AVX-512 CPU build of ggml (from the LLamaSharp.Backend.Cpu package, tests only), called directly:
/// the reference for the float kernels whose exact rounding decides whether our activations equal llama.cpp's.
/// </summary>
internal static unsafe class GgmlActivationOracle
{
    private static readonly Lazy<nint> Cpu = new(() =>
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "ggml-oracle-avx512");
        NativeLibrary.Load(Path.Combine(dir, "libggml-base.so"));
        nint c = NativeLibrary.Load(Path.Combine(dir, "libggml-cpu.so"));
        ((delegate* unmanaged<void>)NativeLibrary.GetExport(c, "ggml_cpu_init"))();
        return c;
    });

    /// <summary>The AVX-512 library runs only on a CPU with AVX-512 (this project's machines have it).</summary>
    public static bool Available => OperatingSystem.IsLinux() && Avx512F.IsSupported && Avx512DQ.IsSupported;

    private static nint Fn(string name) => NativeLibrary.GetExport(Cpu.Value, name);

    public static void SwiGlu(float[] x, float[] g, float[] y)
    {
        var f = (delegate* unmanaged<int, float*, float*, float*, void>)Fn("ggml_vec_swiglu_f32");
        fixed (float* px = x, pg = g, py = y)
        {
            f(x.Length, py, px, pg);
        }
    }

    public static double SoftMax(float[] x, float[] y, float max)
    {
        var f = (delegate* unmanaged<int, float*, float*, float, double>)Fn("ggml_vec_soft_max_f32");
        fixed (float* px = x, py = y)
        {
            return f(x.Length, py, px, max);
        }
    }

    /// <summary>The CPU backend's activation quantizer (e.g. quantize_row_q8_0), which may differ from the _ref one.</summary>
    public static void QuantizeRow(string name, float[] x, byte[] y)
    {
        var f = (delegate* unmanaged<float*, byte*, long, void>)Fn(name);
        fixed (float* px = x)
        fixed (byte* py = y)
        {
            f(px, py, x.Length);
        }
    }

    public static float Dot(float[] x, float[] y)
    {
        var f = (delegate* unmanaged<int, float*, nuint, float*, nuint, float*, nuint, int, void>)Fn("ggml_vec_dot_f32");
        float s = 0;
        fixed (float* px = x, py = y)
        {
            f(x.Length, &s, 0, px, 0, py, 0, 1);
        }
        return s;
    }
}
