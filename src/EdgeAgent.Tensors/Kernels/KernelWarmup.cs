using System.Runtime.InteropServices;
using EdgeAgent.Tensors.Quants;
using EdgeAgent.Tensors.Threading;

namespace EdgeAgent.Tensors.Kernels;

/// <summary>
/// Calls the compute kernels a model will use, on tiny zero-filled matrices, while its weights are still loading.
/// </summary>
/// <remarks>
/// .NET first runs a method unoptimized and compiles an optimized version in the background once it has been called
/// 30 times. A fresh process's first prompt therefore ran its kernels unoptimized until their optimized versions
/// were ready, and compiled them on the prompt's time. Reaching the call count during the load instead lets the
/// runtime compile them while the weights are read and repacked. The results are thrown away; nothing here changes
/// what the kernels compute. Each kernel is called a few dozen times on a 8 × 256 matrix: microseconds of work.
/// </remarks>
public static unsafe class KernelWarmup
{
    private const int Calls = 40;
    private const int Rows = 8;
    private const int Cols = 256;
    private const int Batch = 9; // one 8-row tile and a tail row

    /// <summary>Starts warming the matmul kernels of <paramref name="types"/> and the attention and element-wise
    /// kernels for heads of <paramref name="headDim"/>, on a thread-pool thread. Never throws: a failure only means
    /// no warm-up.</summary>
    public static Task Start(IEnumerable<GgmlType> types, int headDim)
    {
        var distinct = types.Distinct().ToArray();
        return Task.Run(() =>
        {
            try
            {
                Run(distinct, headDim);
            }
            catch (Exception)
            {
                // Only a warm-up: whatever failed here, the model's own load and first prompt meet (and report) it.
            }
        });
    }

    /// <summary>The warm-up itself (synchronous).</summary>
    public static void Run(IReadOnlyCollection<GgmlType> types, int headDim)
    {
        using var pool = new ComputePool(1);
        var matmul = new MatMul(pool);
        using var packing = new PackedWeights();
        var x = new float[Batch * Cols];
        var y = new float[Batch * Rows];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (i % 7) - 3;
        }
        foreach (var type in types)
        {
            if (!QuantRegistry.IsSupported(type) || QuantRegistry.Get(type).VecDot is null || Cols % GgmlTypes.Layout(type).BlockSize != 0)
            {
                continue;
            }
            var layout = GgmlTypes.Layout(type);
            long bytes = (long)Rows * (Cols / layout.BlockSize) * layout.TypeSize;
            var data = (byte*)NativeMemory.AllocZeroed((nuint)bytes);
            try
            {
                var w = packing.Pack(new WeightMatrix(data, type, Rows, Cols));
                for (int c = 0; c < Calls; c++)
                {
                    matmul.Forward(w, x.AsSpan(0, Cols), y.AsSpan(0, Rows), 1, Rows);
                    matmul.Forward(w, x, y, Batch, Rows);
                }
            }
            finally
            {
                NativeMemory.Free(data);
            }
        }
        Attention(headDim, x);
    }

    private static void Attention(int headDim, float[] x)
    {
        const int Positions = 64;
        var keys = new float[Positions * headDim];
        var values = new float[Positions * headDim];
        var scores = new float[Positions];
        var output = new float[headDim];
        var weight = new float[headDim];
        Array.Fill(weight, 1f);
        for (int c = 0; c < Calls; c++)
        {
            if (AttentionDots.IsSupported && headDim % 64 == 0 && headDim <= x.Length)
            {
                fixed (float* q = x, k = keys, v = values, s = scores, o = output)
                {
                    AttentionDots.Scores(q, k, headDim, headDim, Positions, 0.125f, s);
                    AttentionDots.WeightedSums(v, Positions, headDim, s, Positions, Positions, o);
                }
            }
            Softmax.InPlace(scores);
            RmsNorm.Apply(output, weight, output, 1e-5f);
            SwiGlu.Apply(output, weight);
        }
    }
}
