using System.Text.Json;

namespace EdgeAgent.Cli.Tests;

/// <summary>quantize, prune and eval as a script would call them: the JSON contracts of docs/cli.md and one-line errors.</summary>
public sealed class CompressionCommandTests : IDisposable
{
    private static readonly string Stories = CliProcess.SharedPath("models", "stories260K.bin");
    private readonly string _dir = Directory.CreateTempSubdirectory("edgeagent-cli-compression").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Text()
    {
        string path = Path.Combine(_dir, "text.txt");
        if (!File.Exists(path))
        {
            File.WriteAllText(path, File.ReadAllText(CliProcess.SharedPath("data", "tinyshakespeare.txt"))[..2000]);
        }
        return path;
    }

    private static JsonElement Json(CliProcess.Result r)
    {
        Assert.True(r.ExitCode == 0, r.Stderr);
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    [Fact]
    public void QuantizeThenEvalFollowTheJsonContract()
    {
        string output = Path.Combine(_dir, "affine4.gguf");
        var q = Json(CliProcess.Run("quantize", "-m", Stories, "-o", output, "--method", "affine", "--bits", "4", "--group", "64", "--json"));
        Assert.Equal(["bits_per_weight", "bytes", "seconds", "llama_cpp_compatible"], q.EnumerateObject().Select(p => p.Name));
        Assert.False(q.GetProperty("llama_cpp_compatible").GetBoolean());
        Assert.Equal(new FileInfo(output).Length, q.GetProperty("bytes").GetInt64());

        var e = Json(CliProcess.Run("eval", "-m", output, "-f", Text(), "--reference", Stories, "--ctx", "64", "--threads", "2", "--json"));
        Assert.Equal(["perplexity", "kl_divergence", "top1_agreement", "bits_per_weight", "bytes", "decode_tokens_per_s"], e.EnumerateObject().Select(p => p.Name));
        Assert.True(e.GetProperty("kl_divergence").GetDouble() > 0);
        Assert.InRange(e.GetProperty("top1_agreement").GetDouble(), 0, 1);
        Assert.Equal(q.GetProperty("bits_per_weight").GetDouble(), e.GetProperty("bits_per_weight").GetDouble(), 3);

        var alone = Json(CliProcess.Run("eval", "-m", Stories, "-f", Text(), "--ctx", "64", "--threads", "2", "--json"));
        Assert.Equal(JsonValueKind.Null, alone.GetProperty("kl_divergence").ValueKind);
        Assert.Equal(32.0, alone.GetProperty("bits_per_weight").GetDouble());
    }

    [Fact]
    public void GgmlQuantizationIsLlamaCppCompatible()
    {
        var q = Json(CliProcess.Run("quantize", "-m", Stories, "-o", Path.Combine(_dir, "q8.gguf"), "--method", "ggml", "--type", "Q8_0", "--json"));
        Assert.True(q.GetProperty("llama_cpp_compatible").GetBoolean());
        // Q8_0 is 8.5 bits; stories260K's ffn_down rows (172) are no whole Q8_0 blocks and stay F16, norms F32.
        Assert.InRange(q.GetProperty("bits_per_weight").GetDouble(), 8.5, 10.5);
    }

    [Fact]
    public void TwoFourPruningThenQuantizeUsesTheSparseFormat()
    {
        string pruned = Path.Combine(_dir, "pruned24.gguf");
        var p = Json(CliProcess.Run("prune", "-m", Stories, "-o", pruned, "--method", "magnitude", "--pattern", "2:4", "--json"));
        Assert.Equal(["sparsity", "parameters_before", "parameters_after"], p.EnumerateObject().Select(x => x.Name));
        Assert.Equal(0.5, p.GetProperty("sparsity").GetDouble(), 3);
        var q = CliProcess.Run("quantize", "-m", pruned, "-o", Path.Combine(_dir, "sparse.gguf"), "--method", "symmetric");
        Assert.Equal(0, q.ExitCode);
        Assert.Contains("EA_SPARSE24_Q4", q.Stdout);
        var dense = CliProcess.Run("quantize", "-m", pruned, "-o", Path.Combine(_dir, "dense.gguf"), "--method", "symmetric", "--no-sparse");
        Assert.DoesNotContain("EA_SPARSE24", dense.Stdout);
    }

    [Theory]
    [InlineData("gptq-no-calibration", "needs --calibration", "quantize", "--method", "gptq")]
    [InlineData("awq-no-calibration", "needs --calibration", "quantize", "--method", "awq")]
    [InlineData("bits-high", "outside 2..8", "quantize", "--method", "affine", "--bits", "9")]
    [InlineData("bits-low", "outside 2..8", "quantize", "--method", "symmetric", "--bits", "1")]
    [InlineData("already-quantized", "already quantized", "quantize", "-m", "Q8", "--method", "affine")]
    [InlineData("sparsity-high", "outside 0..1", "prune", "--method", "magnitude", "--sparsity", "1.5")]
    [InlineData("sparsity-negative", "outside 0..1", "prune", "--method", "magnitude", "--sparsity=-0.5")]
    [InlineData("taylor", "needs --calibration", "prune", "--method", "taylor")]
    [InlineData("wanda-no-calibration", "needs --calibration", "prune", "--method", "wanda")]
    [InlineData("distill-temperature", "--temperature", "distill", "--teacher", "STORIES", "--data", "TEXT", "--steps", "10", "--temperature", "0")]
    [InlineData("distill-ce-weight", "outside 0..1", "distill", "--teacher", "STORIES", "--data", "TEXT", "--steps", "10", "--ce-weight", "2")]
    public void BadInputGivesOneLineAndExitCodeOne(string name, string message, params string[] args)
    {
        string q8 = Path.Combine(_dir, "input-q8.gguf");
        if (args.Contains("Q8") && !File.Exists(q8))
        {
            Assert.Equal(0, CliProcess.Run("quantize", "-m", Stories, "-o", q8, "--method", "ggml", "--type", "Q8_0").ExitCode);
        }
        var full = args.Select(a => a switch { "STORIES" => Stories, "TEXT" => Text(), "Q8" => q8, _ => a }).ToList();
        if (!full.Contains("-m") && args[0] != "distill")
        {
            full.InsertRange(1, ["-m", Stories]);
        }
        full.AddRange(["-o", Path.Combine(_dir, name + ".gguf")]);
        var r = CliProcess.Run([.. full]);
        Assert.True(r.ExitCode == 1, $"{name}: exit {r.ExitCode}, stderr: {r.Stderr}");
        Assert.Equal("", r.Stdout);
        Assert.StartsWith("edgeagent: error: ", r.Stderr);
        Assert.Contains(message, r.Stderr);
        Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.False(File.Exists(Path.Combine(_dir, name + ".gguf")));
    }
}
