using EdgeAgent.Inference.Model;
using LLama;
using LLama.Native;

namespace EdgeAgent.Benchmarks;

/// <summary>A benchmark model: a real model's shape with random weights, in one llama.cpp file type.</summary>
internal sealed record BenchModel(string Name, RandomModelShape Shape, LLamaFtype Type)
{
    /// <summary>The shapes of issue 3. SmolLM2 ties its output head to the embedding, as the real model does.</summary>
    public static readonly BenchModel[] All =
    [
        new("smollm2-135m-q4_0", Smol, LLamaFtype.MOSTLY_Q4_0),
        new("smollm2-135m-q8_0", Smol, LLamaFtype.MOSTLY_Q8_0),
        new("250m-q4_k_m", new RandomModelShape("llama", 1024, 16, 16, 4, 2816, 32000), LLamaFtype.MOSTLY_Q4_K_M),
        new("tinyllama-1.1b-q4_0", new RandomModelShape("llama", 2048, 22, 32, 4, 5632, 32000), LLamaFtype.MOSTLY_Q4_0),
    ];

    private static RandomModelShape Smol => new("llama", 576, 30, 9, 3, 1536, 49152, TiedOutput: true);

    /// <summary>Writes the F32 model (streamed, one tensor at a time), quantizes it with llama.cpp's quantizer
    /// and deletes the F32 file; reuses an existing quantized file.</summary>
    public string Materialize(string dir)
    {
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, Name + ".gguf");
        if (File.Exists(path))
        {
            return path;
        }
        string f32 = Path.Combine(dir, Name + ".f32.gguf.tmp");
        try
        {
            Console.Error.WriteLine($"[{Name}] writing random F32 weights");
            RandomModel.Write(f32, Shape, seed: 42);
            Console.Error.WriteLine($"[{Name}] quantizing with llama.cpp to {Type}");
            NativeApi.llama_empty_call();
            string tmp = path + ".tmp";
            if (!LLamaQuantizer.Quantize(f32, tmp, Type, nthread: 2, allowRequantize: true, quantizeOutputTensor: true))
            {
                throw new InvalidOperationException($"llama.cpp failed to quantize {Name}");
            }
            File.Move(tmp, path);
        }
        finally
        {
            File.Delete(f32);
        }
        return path;
    }
}
