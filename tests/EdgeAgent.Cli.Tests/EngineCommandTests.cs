using System.Text.Json;

namespace EdgeAgent.Cli.Tests;

public class EngineCommandTests
{
    private static readonly string Stories = CliProcess.SharedPath("models", "stories260K.bin");

    /// <summary>The runtime starts counting calls toward optimized code at once (no 100 ms quiet period) and without
    /// dynamic PGO's instrumented stage, so a first prompt's kernels are promoted while it runs (docs/performance.md,
    /// "First use").</summary>
    [Fact]
    public void The_cli_runtime_counts_calls_for_optimized_code_from_the_start()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "edgeagent.runtimeconfig.json")));
        var properties = doc.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.Equal("0", properties.GetProperty("System.Runtime.TieredCompilation.CallCountingDelayMs").ToString());
        Assert.False(properties.GetProperty("System.Runtime.TieredPGO").GetBoolean());
    }

    [Fact]
    public void InfoJsonDescribesTheModel()
    {
        var r = CliProcess.Run("info", "-m", Stories, "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal("llama", root.GetProperty("architecture").GetString());
        Assert.Equal(64, root.GetProperty("dim").GetInt32());
        Assert.Equal(5, root.GetProperty("layers").GetInt32());
        Assert.Equal(512, root.GetProperty("vocab_size").GetInt32());
        Assert.Equal("F32", root.GetProperty("types")[0].GetProperty("type").GetString());
    }

    [Fact]
    public void LogitsPrintsOneArrayOfTheWholeVocabulary()
    {
        var r = CliProcess.Run("logits", "-m", Stories, "--prompt-ids", "1");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var values = doc.RootElement.EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(512, values.Length);
        // llama2.c's greedy first token after BOS is 461.
        Assert.Equal(461, Array.IndexOf(values, values.Max()));
    }

    [Fact]
    public void BenchJsonHasTheContractFields()
    {
        var r = CliProcess.Run("bench", "-m", Stories, "--prompt-tokens", "16", "--gen-tokens", "8", "--threads", "1", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("prefill_tokens_per_s").GetDouble() > 0);
        Assert.True(root.GetProperty("decode_tokens_per_s").GetDouble() > 0);
        Assert.Equal(1, root.GetProperty("threads").GetInt32());
        Assert.True(root.GetProperty("model_bytes").GetInt64() > 1_000_000);
    }

    [Theory]
    [InlineData("missing-file", "logits", "-m", "/nonexistent/model.gguf", "--prompt-ids", "1")]
    [InlineData("bad-id", "logits", "-m", "STORIES", "--prompt-ids", "1,x")]
    [InlineData("id-out-of-range", "logits", "-m", "STORIES", "--prompt-ids", "1,100000")]
    [InlineData("bad-threads", "bench", "-m", "STORIES", "--threads", "0")]
    [InlineData("unknown-flag", "info", "-m", "STORIES", "--frobnicate")]
    [InlineData("not-a-model", "info", "-m", "README")]
    public void UserErrorsGiveOneLineAndExitCodeOne(string name, params string[] args)
    {
        var fixedArgs = args.Select(a => a switch
        {
            "STORIES" => Stories,
            "README" => CliProcess.SharedPath("README.md"),
            _ => a,
        }).ToArray();
        var r = CliProcess.Run(fixedArgs);
        Assert.True(r.ExitCode == 1, $"{name}: exit {r.ExitCode}, stderr: {r.Stderr}");
        Assert.Equal("", r.Stdout);
        Assert.StartsWith("edgeagent: error: ", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr); // no stack trace
    }
}
