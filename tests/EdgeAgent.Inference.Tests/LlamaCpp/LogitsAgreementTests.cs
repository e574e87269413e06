using EdgeAgent.Inference.Generation;
using EdgeAgent.Inference.Model;
using LLama.Native;
using Xunit.Abstractions;

namespace EdgeAgent.Inference.Tests.LlamaCpp;

/// <summary>Random-weight models written by our GGUF writer, quantized by llama.cpp's own quantizer.</summary>
public sealed class QuantizedModelsFixture : IDisposable
{
    public QuantizedModelsFixture()
    {
        Directory.CreateDirectory(Dir);
        // Dimensions are multiples of 256 so the K-quants really apply (QK_K = 256).
        RandomModel.Write(F32Path, new RandomModelShape("llama", Dim: 256, Layers: 2, Heads: 4, KvHeads: 2, FfnDim: 512, VocabSize: 512), seed: 7);
    }

    public string Dir { get; } = Path.Combine(Path.GetTempPath(), $"edgeagent-agree-{Guid.NewGuid():N}");

    public string F32Path => Path.Combine(Dir, "model-f32.gguf");

    private readonly Dictionary<LLamaFtype, string> _quantized = [];

    public string Get(LLamaFtype type)
    {
        lock (_quantized)
        {
            if (!_quantized.TryGetValue(type, out var path))
            {
                path = Path.Combine(Dir, $"model-{type}.gguf");
                LlamaCppLogits.Quantize(F32Path, path, type);
                _quantized[type] = path;
            }
            return path;
        }
    }

    /// <summary>A BF16 copy written by our own writer (LLamaSharp's quantizer refuses BF16): matrices in BF16, norms F32.</summary>
    public string Bf16Path
    {
        get
        {
            lock (_quantized)
            {
                string path = Path.Combine(Dir, "model-bf16.gguf");
                if (!File.Exists(path))
                {
                    using var f32 = EdgeAgent.Inference.Gguf.GgufFile.Open(F32Path);
                    var w = new EdgeAgent.Inference.Gguf.GgufWriter();
                    foreach (var key in f32.Metadata.Keys)
                    {
                        w.Set(key, f32.Metadata[key]!);
                    }
                    w.Set("general.file_type", 32u); // LLAMA_FTYPE_MOSTLY_BF16
                    var bf16 = EdgeAgent.Tensors.Quants.QuantRegistry.Get(EdgeAgent.Tensors.Quants.GgmlType.BF16);
                    foreach (var t in f32.Tensors)
                    {
                        var values = f32.ReadAsFloat32(t);
                        if (t.Dimensions.Length == 2)
                        {
                            var bytes = new byte[values.Length * 2];
                            bf16.QuantizeReference(values, bytes);
                            w.AddTensor(t.Name, EdgeAgent.Tensors.Quants.GgmlType.BF16, t.Dimensions, bytes);
                        }
                        else
                        {
                            w.AddTensor(t.Name, t.Dimensions, values);
                        }
                    }
                    w.Write(path);
                }
                return path;
            }
        }
    }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}

public class LogitsAgreementTests(QuantizedModelsFixture models, ITestOutputHelper output) : IClassFixture<QuantizedModelsFixture>
{
    private static readonly int[] Prompt = [1, 17, 300, 42, 511, 3, 99, 256, 128, 7, 400, 64];

    public static TheoryData<string> Types => new()
    {
        "F32", "MOSTLY_F16", "MOSTLY_Q8_0", "MOSTLY_Q4_0", "MOSTLY_Q4_1", "MOSTLY_Q5_0", "MOSTLY_Q5_1",
        "MOSTLY_Q4_K_M", "MOSTLY_Q5_K_M", "MOSTLY_Q6_K", "MOSTLY_IQ4_NL", "BF16", "MOSTLY_Q2_K", "MOSTLY_Q3_K_M",
    };

    [Theory]
    [MemberData(nameof(Types))]
    public void LastPositionLogitsMatchLlamaCpp(string typeName)
    {
        string path = typeName switch
        {
            "F32" => models.F32Path,
            "BF16" => models.Bf16Path,
            _ => models.Get(Enum.Parse<LLamaFtype>(typeName)),
        };
        var reference = LlamaCppLogits.LastPosition(path, Prompt);

        using var session = InferenceSession.Open(path, threads: 2, contextLength: 64);
        var ours = session.Evaluate(Prompt);

        Assert.Equal(reference.Length, ours.Length);
        double mean = reference.Average();
        double std = Math.Sqrt(reference.Select(v => (v - mean) * (v - mean)).Average());
        double maxDiff = reference.Zip(ours, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"{typeName}: types {string.Join(",", session.Model.File.Tensors.Select(t => t.Type).Distinct())}; std {std:F4}, max|Δ| {maxDiff:F5} ({maxDiff / std:P3} of std)");
        Assert.Equal(Array.IndexOf(reference, reference.Max()), Array.IndexOf(ours, ours.Max()));
        Assert.True(maxDiff <= 0.02 * std, $"max |Δ| {maxDiff} exceeds 2% of the reference std {std}");
    }
}
