using System.CommandLine;
using EdgeAgent.Compression.Model;
using EdgeAgent.Compression.Quantization;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgeagent quantize</c>: an F32/F16/BF16 model to a quantized GGUF.</summary>
internal static class QuantizeCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var output = CompressionOptions.Output();
        var method = new Option<string>("--method") { Description = "ggml | affine | symmetric | log2 | nf4 | kmeans | gptq | awq.", Required = true };
        method.AcceptOnlyFromAmong("ggml", "affine", "symmetric", "log2", "nf4", "kmeans", "gptq", "awq");
        var type = new Option<string>("--type") { Description = "GGML type for --method ggml: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, IQ4_NL.", DefaultValueFactory = _ => "Q4_K" };
        var bits = new Option<int>("--bits") { Description = "Bits per weight code, 2..8 (log2, kmeans: 2..4; nf4: 4).", DefaultValueFactory = _ => 4 };
        var group = new Option<int>("--group") { Description = "Weights per scale: 32, 64, 128 or 256.", DefaultValueFactory = _ => 32 };
        var calibration = CompressionOptions.Calibration();
        var calibrationTokens = CompressionOptions.CalibrationTokens();
        var noSparse = new Option<bool>("--no-sparse") { Description = "Do not store 2:4-sparse matrices in the 2:4 sparse format." };
        var uniform = new Option<bool>("--uniform") { Description = "No mixed precision: quantize embeddings and output like every other matrix." };
        var clip = new Option<bool>("--clip") { Description = "MSE-optimal range clipping (on whenever --calibration is given)." };
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var cmd = new Command("quantize", "Quantize an F32/F16/BF16 model. ggml outputs load in llama.cpp; the other methods use EdgeAgent's formats (docs/formats.md). Token embeddings and the output head stay at 8 bits unless --uniform.")
        {
            model, output, method, type, bits, group, calibration, calibrationTokens, noSparse, uniform, clip, threads, json,
        };
        cmd.SetAction(r => CliRunner.Run(() =>
        {
            if (!GgmlTypes.TryParse(r.GetValue(type)!, out var ggmlType))
            {
                throw new UserErrorException($"--type '{r.GetValue(type)}' is not a tensor type");
            }
            var options = new QuantizeOptions
            {
                Method = Enum.Parse<QuantMethod>(r.GetValue(method)!, ignoreCase: true),
                GgmlType = ggmlType,
                Bits = r.GetValue(bits),
                Group = r.GetValue(group),
                Sparse = !r.GetValue(noSparse),
                KeepSensitive = !r.GetValue(uniform),
                ClipSearch = r.GetValue(clip),
            };
            string? calibrationPath = r.GetValue(calibration);
            options.Validate(calibrationPath is not null); // fail fast, before loading anything
            string input = r.GetValue(model)!;
            var tensors = ModelTensors.Load(input);
            var data = CompressionOptions.Collect(input, tensors, calibrationPath, r.GetValue(calibrationTokens), options.Method == QuantMethod.Gptq, r.GetValue(threads));
            var progress = new ProgressBar("quantize");
            var result = ModelQuantizer.Run(tensors, options, data, r.GetValue(output)!, progress.Report);
            progress.Done();
            if (r.GetValue(json))
            {
                CliRunner.WriteJson(new
                {
                    bits_per_weight = result.BitsPerWeight,
                    bytes = result.Bytes,
                    seconds = result.Seconds,
                    llama_cpp_compatible = result.LlamaCppCompatible,
                });
            }
            else
            {
                var types = result.Types.Values.GroupBy(t => t).Select(g => $"{GgmlTypes.Layout(g.Key).Name} x{g.Count()}");
                Console.Out.WriteLine($"{result.BitsPerWeight:F3} bits per weight, {result.Bytes:N0} bytes, {result.Seconds:F1} s; llama.cpp compatible: {(result.LlamaCppCompatible ? "yes" : "no")}");
                Console.Out.WriteLine($"tensor types: {string.Join(", ", types)}");
            }
            return 0;
        }));
        return cmd;
    }
}
