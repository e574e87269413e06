using System.CommandLine;
using EdgeAgent.Compression.Calibration;
using EdgeAgent.Compression.Model;
using EdgeAgent.Inference.Model;

namespace EdgeAgent.Cli.Commands;

/// <summary>Options and helpers shared by the compression commands.</summary>
internal static class CompressionOptions
{
    public static Option<string> Output() => new("--output", "-o") { Description = "Output GGUF file.", Required = true };

    public static Option<string?> Calibration() => new("--calibration")
    {
        Description = "UTF-8 text whose activations calibrate the method (imatrix weights, GPTQ Hessians, AWQ scales, Wanda norms).",
    };

    public static Option<int> CalibrationTokens() => new("--calibration-tokens")
    {
        Description = "At most this many calibration tokens, in windows of 128.",
        DefaultValueFactory = _ => 4096,
        Validators = { r => CommonOptions.Positive(r, "--calibration-tokens") },
    };

    /// <summary>The first <paramref name="maxTokens"/> tokens of a calibration text, and the model's BOS id.</summary>
    public static (int[] Tokens, int Bos) CalibrationTokens(string modelPath, string textPath, int maxTokens)
    {
        string text = CommonOptions.ReadText(textPath);
        using var llama = LlamaModel.Load(modelPath);
        var tokens = llama.Tokenizer.Encode(text, addSpecial: false, parseSpecial: false);
        return ([.. tokens.Take(maxTokens)], Math.Max(0, llama.Tokenizer.BosId));
    }

    /// <summary>Runs the model over the calibration text (null when no file was given).</summary>
    public static CalibrationData? Collect(string modelPath, ModelTensors model, string? textPath, int maxTokens, bool hessian, int threads)
    {
        if (textPath is null)
        {
            return null;
        }
        string text = CommonOptions.ReadText(textPath);
        using var llama = LlamaModel.Load(modelPath);
        var tokenizer = llama.Tokenizer;
        var tokens = tokenizer.Encode(text, addSpecial: false, parseSpecial: false);
        var progress = new ProgressBar("calibration");
        var data = CalibrationData.Collect(model, tokens, Math.Max(0, tokenizer.BosId),
            new CalibrationOptions { Context = 128, MaxTokens = maxTokens, Hessian = hessian, Samples = 128, Threads = threads }, progress.Report);
        progress.Done();
        return data;
    }
}
