using System.Text.Json;

namespace EdgeAgent.Cli.Tests;

public class GenerationCommandTests
{
    private static readonly string Stories = CliProcess.SharedPath("models", "stories260K.bin");

    // shared/README.md: llama2.c greedy from BOS.
    private static readonly int[] Llama2c = [461, 461, 401, 401, 401, 461, 378, 455, 473, 456, 435, 299, 362, 409, 283, 264];

    [Fact]
    public void RunGreedyJsonGivesLlama2cTokensAndTheContractFields()
    {
        var r = CliProcess.Run("run", "-m", Stories, "--prompt-ids", "1", "-n", "16", "--temperature", "0", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal(Llama2c, root.GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(1, root.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(16, root.GetProperty("generated_tokens").GetInt32());
        Assert.Equal("length", root.GetProperty("finish_reason").GetString());
        Assert.True(root.GetProperty("decode_tokens_per_s").GetDouble() > 0);
        Assert.True(root.GetProperty("prefill_tokens_per_s").GetDouble() > 0);
        Assert.Equal(JsonValueKind.String, root.GetProperty("text").ValueKind);
    }

    [Fact]
    public void SeededSamplingIsReproducibleAndStreamsTextToStdout()
    {
        string[] args = ["run", "-m", Stories, "-p", "Once", "-n", "24", "--seed", "42", "--temperature", "1.0", "--json"];
        var a = CliProcess.Run(args);
        var b = CliProcess.Run(args);
        Assert.Equal(0, a.ExitCode);
        using var da = JsonDocument.Parse(a.Stdout);
        using var db = JsonDocument.Parse(b.Stdout);
        Assert.Equal(da.RootElement.GetProperty("token_ids").ToString(), db.RootElement.GetProperty("token_ids").ToString());
        Assert.Equal(da.RootElement.GetProperty("text").GetString(), db.RootElement.GetProperty("text").GetString());
        var streamed = CliProcess.Run("run", "-m", Stories, "-p", "Once", "-n", "24", "--seed", "42", "--temperature", "1.0");
        Assert.Equal(0, streamed.ExitCode);
        using var doc = JsonDocument.Parse(a.Stdout);
        Assert.Equal(doc.RootElement.GetProperty("text").GetString() + "\n", streamed.Stdout);
    }

    [Fact]
    public void TokenizePrintsIdsWithoutBos()
    {
        var r = CliProcess.Run("tokenize", "-m", Stories, "-p", "Hi", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        // Stand-in byte vocabulary: "▁Hi" = E2 96 81 48 69, byte b is id b + 3.
        Assert.Equal(new[] { 0xE2 + 3, 0x96 + 3, 0x81 + 3, 'H' + 3, 'i' + 3 }, doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()));
        var plain = CliProcess.Run("tokenize", "-m", Stories, "-p", "Hi");
        Assert.Equal("229,153,132,75,108\n", plain.Stdout);
    }

    [Fact]
    public void PerplexityJsonCountsWholeWindowsOnly()
    {
        string text = Path.Combine(Path.GetTempPath(), $"ppl-{Guid.NewGuid():N}.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("the cat sat on the mat. ", 20)));
        try
        {
            var r = CliProcess.Run("perplexity", "-m", Stories, "-f", text, "--ctx", "64", "--json");
            Assert.Equal(0, r.ExitCode);
            using var doc = JsonDocument.Parse(r.Stdout);
            int tokens = doc.RootElement.GetProperty("tokens").GetInt32();
            Assert.Equal(0, tokens % 63);
            Assert.True(tokens > 0);
            double ppl = doc.RootElement.GetProperty("perplexity").GetDouble();
            // The model never saw this vocabulary's text (its own is not shipped), so only sanity is checked here;
            // agreement with llama.cpp's perplexity is tested in EdgeAgent.Inference.Tests.
            Assert.True(double.IsFinite(ppl) && ppl > 1.0, $"perplexity {ppl}");
        }
        finally
        {
            File.Delete(text);
        }
    }

    [Theory]
    [InlineData("run", "-m", "STORIES", "-n", "4")]                                  // neither --prompt nor --prompt-ids
    [InlineData("run", "-m", "STORIES", "-p", "x", "--prompt-ids", "1")]             // both
    [InlineData("run", "-m", "STORIES", "--prompt-ids", "1", "--top-p", "1.5")]      // out of range
    [InlineData("run", "-m", "STORIES", "--prompt-ids", "1", "--temperature", "-1")] // out of range
    [InlineData("perplexity", "-m", "STORIES", "-f", "/nonexistent.txt")]
    [InlineData("tokenize", "-m", "STORIES")]
    public void BadRequestsAreOneLineErrors(params string[] args)
    {
        var r = CliProcess.Run(args.Select(a => a == "STORIES" ? Stories : a).ToArray());
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.StartsWith("edgeagent: error: ", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }
}
