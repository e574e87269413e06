using EdgeAgent.Compression.Calibration;
using EdgeAgent.Compression.Model;
using EdgeAgent.Inference.Model;

namespace EdgeAgent.Compression.Tests;

/// <summary>Test models and data: a seeded random llama (dims multiples of 256, every format fits) and the shared
/// stories260K (dims 64: non-K formats only).</summary>
internal static class TestModels
{
    public static readonly RandomModelShape Shape = new("llama", Dim: 256, Layers: 2, Heads: 4, KvHeads: 4, FfnDim: 512, VocabSize: 512, ContextLength: 256);

    /// <summary>
    /// One directory for the whole run, shared by every class (the random model is written once). xunit 2 has no
    /// assembly fixture, so it is deleted when the test process exits.
    /// </summary>
    public static string TempDir { get; } = CreateTempDir();

    private static string CreateTempDir()
    {
        string dir = Directory.CreateTempSubdirectory("edgeagent-compression-tests").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort: Windows refuses to delete a file a loaded model still maps; a throw here would crash the host.
            }
        };
        return dir;
    }

    private static readonly Lazy<string> s_random = new(() =>
    {
        string path = Path.Combine(TempDir, "random-256x2.gguf");
        RandomModel.Write(path, Shape, seed: 3);
        return path;
    });

    public static string Random => s_random.Value;

    public static string Stories => SharedPath("models", "stories260K.bin");

    public static string Output(string name) => Path.Combine(TempDir, name);

    /// <summary>Seeded random token ids (not BOS/EOS).</summary>
    public static int[] Tokens(int count, int vocab, int seed = 11)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => rng.Next(3, vocab)).ToArray();
    }

    private static readonly Dictionary<bool, CalibrationData> s_calibration = [];

    /// <summary>Calibration of the random model over random tokens (Hessians and samples included), cached.</summary>
    public static CalibrationData RandomCalibration(ModelTensors model)
    {
        lock (s_calibration)
        {
            if (!s_calibration.TryGetValue(true, out var c))
            {
                c = CalibrationData.Collect(model, Tokens(512, Shape.VocabSize), bos: 1,
                    new CalibrationOptions { Context = 128, Hessian = true, Samples = 64, Threads = 2 });
                s_calibration[true] = c;
            }
            return c;
        }
    }

    public static string SharedPath(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "..", "shared"), Path.Combine(dir.FullName, "shared") })
            {
                if (Directory.Exists(Path.Combine(candidate, "models")))
                {
                    return Path.GetFullPath(Path.Combine([candidate, .. parts]));
                }
            }
        }
        throw new DirectoryNotFoundException("shared/ test data not found beside the repository");
    }

    /// <summary>Gaussian values.</summary>
    public static float[] Gaussian(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = scale * MathF.Sqrt(-2 * MathF.Log(1 - rng.NextSingle())) * MathF.Cos(2 * MathF.PI * rng.NextSingle());
        }
        return x;
    }

    /// <summary>
    /// Activation-like rows: channels with very different scales (a few outliers, as real LLM activations have) and
    /// correlations between channels (a random mixing of a lower-dimensional signal).
    /// </summary>
    public static float[] Activations(int rows, int cols, int seed)
    {
        var rng = new Random(seed);
        var scale = Enumerable.Range(0, cols).Select(j => j % 37 == 0 ? 8f : MathF.Exp((rng.NextSingle() - 0.5f) * 2)).ToArray();
        int k = cols / 4;
        var mix = Gaussian(k * cols, seed + 1, 1f / MathF.Sqrt(k));
        var z = Gaussian(rows * k, seed + 2);
        var noise = Gaussian(rows * cols, seed + 3, 0.3f);
        var x = new float[rows * cols];
        for (int t = 0; t < rows; t++)
        {
            for (int j = 0; j < cols; j++)
            {
                float v = noise[(t * cols) + j];
                for (int i = 0; i < k; i++)
                {
                    v += z[(t * k) + i] * mix[(i * cols) + j];
                }
                x[(t * cols) + j] = v * scale[j];
            }
        }
        return x;
    }

    /// <summary>Σ_t ‖(W − Ŵ)·x_t‖² over activation rows.</summary>
    public static double OutputError(float[] w, float[] wq, int rows, int cols, float[] x)
    {
        int n = x.Length / cols;
        double e = 0;
        var delta = new float[w.Length];
        System.Numerics.Tensors.TensorPrimitives.Subtract(w, wq, delta);
        for (int r = 0; r < rows; r++)
        {
            for (int t = 0; t < n; t++)
            {
                double v = System.Numerics.Tensors.TensorPrimitives.Dot(delta.AsSpan(r * cols, cols), x.AsSpan(t * cols, cols));
                e += v * v;
            }
        }
        return e;
    }
}
