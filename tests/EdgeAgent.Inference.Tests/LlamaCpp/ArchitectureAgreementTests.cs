using EdgeAgent.Inference.Generation;
using EdgeAgent.Inference.Model;
using LLama.Native;
using Xunit.Abstractions;

namespace EdgeAgent.Inference.Tests.LlamaCpp;

/// <summary>The architecture variants (QKV bias, QK-norm with explicit head size, tied output, multi-query
/// attention) against llama.cpp on random-weight models, in F32 and after llama.cpp's Q4_K_M quantization.</summary>
public class ArchitectureAgreementTests(ITestOutputHelper output)
{
    private static readonly int[] Prompt = [1, 5, 260, 300, 42, 7, 99, 500, 13];

    public static TheoryData<string> Variants => new() { "qwen2", "qwen3", "llama-tied", "llama-mqa" };

    private static RandomModelShape Shape(string variant) => variant switch
    {
        "qwen2" => new("qwen2", Dim: 256, Layers: 2, Heads: 4, KvHeads: 2, FfnDim: 512, VocabSize: 512, RopeBase: 1_000_000f),
        "qwen3" => new("qwen3", Dim: 256, Layers: 2, Heads: 8, KvHeads: 2, FfnDim: 512, VocabSize: 512, HeadDim: 64),
        "llama-tied" => new("llama", Dim: 256, Layers: 2, Heads: 4, KvHeads: 4, FfnDim: 768, VocabSize: 512, TiedOutput: true),
        _ => new("llama", Dim: 256, Layers: 2, Heads: 4, KvHeads: 1, FfnDim: 512, VocabSize: 512),
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void LogitsMatchLlamaCppInF32AndQ4KM(string variant)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"edgeagent-arch-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string f32 = Path.Combine(dir, "f32.gguf"), q4 = Path.Combine(dir, "q4km.gguf");
            RandomModel.Write(f32, Shape(variant), seed: 11);
            LlamaCppLogits.Quantize(f32, q4, LLamaFtype.MOSTLY_Q4_K_M);
            foreach (var path in new[] { f32, q4 })
            {
                var reference = LlamaCppLogits.LastPosition(path, Prompt);
                using var session = InferenceSession.Open(path, threads: 2, contextLength: 32);
                var ours = session.Evaluate(Prompt);
                double mean = reference.Average();
                double std = Math.Sqrt(reference.Select(v => (v - mean) * (v - mean)).Average());
                double maxDiff = reference.Zip(ours, (a, b) => Math.Abs(a - b)).Max();
                output.WriteLine($"{variant} {Path.GetFileName(path)}: max|Δ| {maxDiff:F6} ({maxDiff / std:P3} of std {std:F3})");
                Assert.Equal(Array.IndexOf(reference, reference.Max()), Array.IndexOf(ours, ours.Max()));
                Assert.True(maxDiff <= 0.02 * std, $"{variant}: max |Δ| {maxDiff} exceeds 2% of std {std}");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
