// Usage: dotnet run --project bench/LlamaQuantize -c Release -- IN.gguf OUT.gguf Q4_K_M
// Quantizes with llama.cpp's own quantizer (the call of tests/EdgeAgent.Inference.Tests/LlamaCpp/LlamaCppLogits.cs, but with the output tensor quantized as llama-quantize does by default).
using LLama;
using LLama.Native;

if (args.Length != 3)
{
    Console.Error.WriteLine("usage: LlamaQuantize IN.gguf OUT.gguf TYPE (e.g. Q4_K_M)");
    return 1;
}
var type = Enum.Parse<LLamaFtype>("MOSTLY_" + args[2], ignoreCase: true);
NativeApi.llama_empty_call();
if (!LLamaQuantizer.Quantize(args[0], args[1], type, nthread: 2, allowRequantize: true, quantizeOutputTensor: true))
{
    Console.Error.WriteLine($"llama.cpp failed to quantize {args[0]} to {type}");
    return 1;
}
Console.Out.WriteLine($"wrote {args[1]} ({type})");
return 0;
