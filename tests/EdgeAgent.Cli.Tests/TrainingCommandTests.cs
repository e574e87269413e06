using System.Text.Json;

namespace EdgeAgent.Cli.Tests;

public sealed class TrainingCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ea-train-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var p = Path.Combine(_dir, name);
        File.WriteAllText(p, text);
        return p;
    }

    private (string Train, string Valid) Corpus()
    {
        var text = File.ReadAllText(CliProcess.SharedPath("data", "tinyshakespeare.txt"));
        return (Write("train.txt", text[..60_000]), Write("valid.txt", text[^6_000..]));
    }

    [Fact]
    public void TokenizerTrainThenTrainWritesAModelThatPerplexityReads()
    {
        var (train, valid) = Corpus();
        var tokJson = Path.Combine(_dir, "tok.json");
        var t = CliProcess.Run("tokenizer-train", "--corpus", train, "--vocab-size", "300", "-o", tokJson, "--json");
        Assert.True(t.ExitCode == 0, t.Stderr);
        using (var doc = JsonDocument.Parse(t.Stdout))
        {
            Assert.Equal(300, doc.RootElement.GetProperty("vocab_size").GetInt32());
        }

        var model = Path.Combine(_dir, "m.gguf");
        var r = CliProcess.Run("train", "--corpus", train, "--valid", valid, "--tokenizer", tokJson, "--dim", "32", "--layers", "2",
            "--heads", "4", "--kv-heads", "2", "--ffn", "64", "--ctx", "32", "--steps", "12", "--batch", "4", "--threads", "2", "-o", model, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var train_ = JsonDocument.Parse(r.Stdout);
        var root = train_.RootElement;
        Assert.Equal(["steps", "parameters", "train_loss", "valid_loss", "tokens_per_s"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(12, root.GetProperty("steps").GetInt32());
        Assert.True(root.GetProperty("parameters").GetInt64() > 300 * 32);
        Assert.True(root.GetProperty("tokens_per_s").GetDouble() > 0);
        double validLoss = root.GetProperty("valid_loss").GetDouble();

        // The GGUF is a normal model for every other command: perplexity with the same windows gives exp(valid_loss).
        var p = CliProcess.Run("perplexity", "-m", model, "-f", valid, "--ctx", "32", "--json");
        Assert.True(p.ExitCode == 0, p.Stderr);
        using var pdoc = JsonDocument.Parse(p.Stdout);
        Assert.Equal(Math.Exp(validLoss), pdoc.RootElement.GetProperty("perplexity").GetDouble(), 2);
    }

    [Fact]
    public void A_checkpoint_already_at_its_last_step_writes_its_model_and_valid_json()
    {
        var (train, _) = Corpus();
        var ckpt = Path.Combine(_dir, "run.ckpt");
        string[] Args(string output) =>
        [
            "train", "--corpus", train, "--vocab-size", "300", "--dim", "32", "--layers", "1", "--heads", "4", "--ffn", "32",
            "--ctx", "32", "--steps", "3", "--batch", "2", "--threads", "2", "--checkpoint", ckpt, "-o", output, "--json",
        ];
        var first = CliProcess.Run(Args(Path.Combine(_dir, "a.gguf")));
        Assert.True(first.ExitCode == 0, first.Stderr);
        // Run again: the checkpoint is at step 3 of 3, so nothing is trained (no train loss, no speed), and the model
        // is written; the JSON stays valid (it used to fail on a NaN loss).
        var again = CliProcess.Run(Args(Path.Combine(_dir, "b.gguf")));
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("nothing to train", again.Stderr);
        using var doc = JsonDocument.Parse(again.Stdout);
        Assert.Equal(3, doc.RootElement.GetProperty("steps").GetInt32());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("train_loss").ValueKind);
        Assert.Equal(new FileInfo(Path.Combine(_dir, "a.gguf")).Length, new FileInfo(Path.Combine(_dir, "b.gguf")).Length);

        // Another run (other steps, so another schedule) with the same checkpoint file: refused in one line, the
        // checkpoint left as it was.
        var before = File.ReadAllBytes(ckpt);
        var other = Args(Path.Combine(_dir, "c.gguf"));
        other[Array.IndexOf(other, "--steps") + 1] = "5";
        var refused = CliProcess.Run(other);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("checkpoint of another run", refused.Stderr);
        Assert.DoesNotContain("   at ", refused.Stderr);
        Assert.Equal(before, File.ReadAllBytes(ckpt));
        Assert.False(File.Exists(Path.Combine(_dir, "c.gguf")));
    }

    [Theory]
    [InlineData("empty-corpus", "tokenizer-train", "--corpus", "EMPTY", "--vocab-size", "300", "-o", "OUT")]
    [InlineData("tiny-vocab", "tokenizer-train", "--corpus", "TRAIN", "--vocab-size", "100", "-o", "OUT")]
    [InlineData("train-empty-corpus", "train", "--corpus", "EMPTY", "--vocab-size", "300", "--dim", "32", "--layers", "1", "--heads", "4", "--ffn", "32", "--steps", "1", "-o", "OUT")]
    [InlineData("train-tiny-vocab", "train", "--corpus", "TRAIN", "--vocab-size", "255", "--dim", "32", "--layers", "1", "--heads", "4", "--ffn", "32", "--steps", "1", "-o", "OUT")]
    [InlineData("heads-do-not-divide", "train", "--corpus", "TRAIN", "--vocab-size", "300", "--dim", "30", "--layers", "1", "--heads", "4", "--ffn", "32", "--steps", "1", "-o", "OUT")]
    [InlineData("kv-heads-do-not-divide", "train", "--corpus", "TRAIN", "--vocab-size", "300", "--dim", "32", "--layers", "1", "--heads", "4", "--kv-heads", "3", "--ffn", "32", "--steps", "1", "-o", "OUT")]
    [InlineData("unknown-flag", "train", "--corpus", "TRAIN", "--vocab-size", "300", "--dim", "32", "--layers", "1", "--heads", "4", "--ffn", "32", "--steps", "1", "-o", "OUT", "--frobnicate")]
    [InlineData("missing-corpus", "train", "--corpus", "/nonexistent.txt", "--vocab-size", "300", "--dim", "32", "--layers", "1", "--heads", "4", "--ffn", "32", "--steps", "1", "-o", "OUT")]
    [InlineData("no-tokenizer", "train", "--corpus", "TRAIN", "--dim", "32", "--layers", "1", "--heads", "4", "--ffn", "32", "--steps", "1", "-o", "OUT")]
    public void BadInputGivesOneLineAndExitCodeOne(string name, params string[] args)
    {
        var (train, _) = Corpus();
        var empty = Write("empty.txt", "");
        var fixedArgs = args.Select(a => a switch
        {
            "EMPTY" => empty,
            "TRAIN" => train,
            "OUT" => Path.Combine(_dir, "out"),
            _ => a,
        }).ToArray();
        var r = CliProcess.Run(fixedArgs);
        Assert.True(r.ExitCode == 1, $"{name}: exit {r.ExitCode}, stderr: {r.Stderr}");
        Assert.Equal("", r.Stdout);
        Assert.StartsWith("edgeagent: error: ", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "out")));
    }

    [Fact]
    public void Average_writes_the_weighted_mean_of_two_fine_tunes_and_refuses_other_shapes()
    {
        var (train, valid) = Corpus();
        var tokJson = Path.Combine(_dir, "tok.json");
        Assert.Equal(0, CliProcess.Run("tokenizer-train", "--corpus", train, "--vocab-size", "280", "-o", tokJson).ExitCode);
        string Train(string name, params string[] extra)
        {
            var path = Path.Combine(_dir, name);
            var r = CliProcess.Run(["train", "--corpus", train, "--ctx", "32", "--steps", "6", "--batch", "2", "--threads", "2", "-o", path, .. extra]);
            Assert.True(r.ExitCode == 0, r.Stderr);
            return path;
        }
        var parent = Train("parent.gguf", "--tokenizer", tokJson, "--dim", "32", "--layers", "2", "--heads", "4", "--ffn", "64");
        var child = Train("child.gguf", "--init", parent, "--seed", "2");
        var avg = Path.Combine(_dir, "avg.gguf");
        var a = CliProcess.Run("average", "-m", parent, "-m", child, "--weights", "1,3", "-o", avg, "--json");
        Assert.True(a.ExitCode == 0, a.Stderr);
        using (var doc = JsonDocument.Parse(a.Stdout))
        {
            var root = doc.RootElement;
            Assert.Equal(["output", "models", "weights", "parameters"], root.EnumerateObject().Select(p => p.Name));
            Assert.Equal([0.25, 0.75], root.GetProperty("weights").EnumerateArray().Select(w => w.GetDouble()));
        }
        var (_, pp, _) = EdgeAgent.Training.Model.ModelFile.Read(parent);
        var (_, pc, _) = EdgeAgent.Training.Model.ModelFile.Read(child);
        var (_, pa, vocab) = EdgeAgent.Training.Model.ModelFile.Read(avg);
        Assert.Equal(280, vocab.Tokens.Length);
        Assert.NotEqual(pp, pc);
        for (int i = 0; i < pa.Length; i++)
        {
            Assert.Equal((float)(0.25 * pp[i] + 0.75 * pc[i]), pa[i]);
        }
        var ppl = CliProcess.Run("perplexity", "-m", avg, "-f", valid, "--ctx", "32", "--json");
        Assert.True(ppl.ExitCode == 0, ppl.Stderr);

        var other = Train("other.gguf", "--tokenizer", tokJson, "--dim", "16", "--layers", "2", "--heads", "2", "--ffn", "32");
        foreach (var args in new[]
        {
            new[] { "average", "-m", parent, "-m", other, "-o", Path.Combine(_dir, "bad.gguf") },
            ["average", "-m", parent, "-m", child, "--weights", "1", "-o", Path.Combine(_dir, "bad.gguf")],
            ["average", "-m", parent, "-o", Path.Combine(_dir, "bad.gguf")],
        })
        {
            var r = CliProcess.Run(args);
            Assert.Equal(1, r.ExitCode);
            Assert.Equal("", r.Stdout);
            Assert.StartsWith("edgeagent: error: ", r.Stderr);
            Assert.DoesNotContain("   at ", r.Stderr);
            Assert.False(File.Exists(Path.Combine(_dir, "bad.gguf")));
        }
    }
}
