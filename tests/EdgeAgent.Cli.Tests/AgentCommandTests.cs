using System.Text.Json;
using EdgeAgent.Inference.Model;

namespace EdgeAgent.Cli.Tests;

public sealed class AgentCommandTests : IDisposable
{
    private static readonly Lazy<string> RandomModelPath = new(() =>
    {
        string path = Path.Combine(Path.GetTempPath(), $"edgeagent-cli-agent-random-{Environment.ProcessId}.gguf");
        // Shared by the tests of the run; deleted when the test process exits (the CLI processes that read it are gone by then).
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort: a throw here would crash the test host after a green run.
            }
        };
        RandomModel.Write(path, new RandomModelShape("llama", Dim: 32, Layers: 1, Heads: 2, KvHeads: 1, FfnDim: 64, VocabSize: 300, ContextLength: 4096), seed: 3);
        return path;
    });

    private readonly string _dir = Directory.CreateTempSubdirectory("edgeagent-demo-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonElement Json(CliProcess.Result r)
    {
        Assert.True(r.ExitCode == 0, r.Stderr);
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    private static void UserError(CliProcess.Result r, string message)
    {
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.StartsWith("edgeagent: error: ", r.Stderr.Trim().Split('\n')[^1]);
        Assert.Contains(message, r.Stderr);
    }

    [Fact]
    public void Devices_lists_devices_and_live_tool_schemas()
    {
        var j = Json(CliProcess.Run("agent", "devices", "--json"));
        var kitchen = j.GetProperty("devices").EnumerateArray().First(d => d.GetProperty("entity_id").GetString() == "light.kitchen");
        Assert.Equal(["entity_id", "name", "area", "domain", "state", "attributes"], kitchen.EnumerateObject().Select(p => p.Name));
        var turnOn = j.GetProperty("tools").EnumerateArray().First(t => t.GetProperty("name").GetString() == "light.turn_on");
        var ids = turnOn.GetProperty("parameters").GetProperty("properties").GetProperty("entity_id").GetProperty("enum").EnumerateArray().Select(e => e.GetString());
        Assert.Contains("light.porch", ids);
        Assert.DoesNotContain("lock.front_door", ids);
    }

    [Fact]
    public void Ask_prints_the_contract_fields_and_blocks_an_unconfirmed_unlock()
    {
        var j = Json(CliProcess.Run("agent", "ask", "--json", "--rules", "turn off the porch light and unlock the front door"));
        Assert.Equal(["tool_calls", "reply", "blocked", "executed", "latency_ms", "understanding"], j.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["light.turn_off", "lock.unlock"], j.GetProperty("tool_calls").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        var blocked = Assert.Single(j.GetProperty("blocked").EnumerateArray());
        Assert.Equal("lock.unlock", blocked.GetProperty("name").GetString());
        Assert.Contains("confirm", blocked.GetProperty("reason").GetString());
        Assert.True(j.GetProperty("executed").GetBoolean());
        Assert.True(j.GetProperty("latency_ms").GetDouble() >= 0);
        Assert.Contains("not a language model", j.GetProperty("understanding").GetString());

        var confirmed = Json(CliProcess.Run("agent", "ask", "--json", "--rules", "--confirm", "--dry-run", "unlock the front door"));
        Assert.Empty(confirmed.GetProperty("blocked").EnumerateArray());
        Assert.False(confirmed.GetProperty("executed").GetBoolean());
    }

    [Fact]
    public void Ask_uses_the_embedded_trained_model_by_default()
    {
        var j = Json(CliProcess.Run("agent", "ask", "--json", "--threads", "2", "turn off the porch light and unlock the front door"));
        Assert.StartsWith("llm:agent-4x128.gguf", j.GetProperty("understanding").GetString());
        var entities = Json(CliProcess.Run("agent", "devices", "--json")).GetProperty("devices").EnumerateArray().Select(d => d.GetProperty("entity_id").GetString()).ToHashSet();
        var calls = j.GetProperty("tool_calls").EnumerateArray().ToList();
        Assert.All(calls, c => Assert.True(!c.GetProperty("arguments").TryGetProperty("entity_id", out var id) || entities.Contains(id.GetString())));
        // Without --confirm an unlock, if proposed, is blocked.
        int unlocks = calls.Count(c => c.GetProperty("name").GetString() == "lock.unlock");
        Assert.Equal(unlocks, j.GetProperty("blocked").EnumerateArray().Count(b => b.GetProperty("name").GetString() == "lock.unlock"));
        UserError(CliProcess.Run("agent", "ask", "--rules", "--model", "x.gguf", "hi"), "not both");
    }

    [Fact]
    public void Ask_with_a_random_weight_model_gives_valid_calls()
    {
        var j = Json(CliProcess.Run("agent", "ask", "--json", "--dry-run", "--threads", "1", "--model", RandomModelPath.Value, "turn on the kitchen light"));
        Assert.StartsWith("llm:", j.GetProperty("understanding").GetString());
        var entities = Json(CliProcess.Run("agent", "devices", "--json")).GetProperty("devices").EnumerateArray().Select(d => d.GetProperty("entity_id").GetString()).ToHashSet();
        foreach (var call in j.GetProperty("tool_calls").EnumerateArray())
        {
            if (call.GetProperty("arguments").TryGetProperty("entity_id", out var id))
            {
                Assert.Contains(id.GetString(), entities);
            }
        }
        Assert.False(j.GetProperty("executed").GetBoolean());
    }

    [Fact]
    public void Eval_lists_as_many_misses_as_asked()
    {
        var all = CliProcess.Run("agent", "eval", "--rules", "--count", "40", "--seed", "3", "--misses", "1000", "--json");
        var j = Json(all);
        int examples = j.GetProperty("examples").GetInt32();
        int exact = (int)Math.Round(j.GetProperty("exact_accuracy").GetDouble() * examples);
        Assert.True(exact < examples, "the rules miss some of the held-out examples");
        int Misses(CliProcess.Result r) => r.Stderr.Split('\n').Count(l => l.StartsWith("miss: ", StringComparison.Ordinal));
        Assert.Equal(examples - exact, Misses(all)); // every answer of the rules is schema-valid: one line per miss
        Assert.Equal(0, Misses(CliProcess.Run("agent", "eval", "--rules", "--count", "40", "--seed", "3", "--misses", "0", "--json")));
    }

    [Fact]
    public void Bad_input_gives_one_line_errors()
    {
        UserError(CliProcess.Run("agent", "ask", "  "), "the command is empty");
        UserError(CliProcess.Run("agent", "ask", "--home", "/nonexistent/HOME.json", "hi"), "home file not found");
        UserError(CliProcess.Run("agent", "ask", "--rules", "--beams", "2", "hi"), "--beams applies to a language model");
        UserError(CliProcess.Run("agent", "ask", "--rules", "--no-grounding", "hi"), "--no-grounding applies to a language model");
        UserError(CliProcess.Run("agent", "ask", "--rules", "--no-split", "hi"), "--no-split applies to a language model");
        foreach (var (args, message) in new[]
        {
            (new[] { "agent", "ask", "--beams", "0", "hi" }, "--beams must be at least 1"),
            (new[] { "agent", "eval", "--rules", "--count", "1", "--misses", "-1" }, "--misses must be 0 or more"),
            (new[] { "agent", "dataset", "--split", "eval", "--more-small-talk", "-o", Path.Combine(Path.GetTempPath(), "ea-never-written.jsonl") }, "--more-small-talk: the eval split has no extra small talk"),
            (new[] { "agent", "dataset", "--made-up-names", "1.5", "-o", "unused.txt" }, "--made-up-names must be between 0 and 1"),
            (new[] { "agent", "dataset", "--made-up-messages", "-0.1", "-o", "unused.txt" }, "--made-up-messages must be between 0 and 1"),
            (new[] { "agent", "dataset", "--multi-share", "2", "-o", "unused.txt" }, "--multi-share must be between 0 and 1"),
        })
        {
            var r = CliProcess.Run(args);
            Assert.Equal(1, r.ExitCode);
            Assert.Equal("", r.Stdout);
            Assert.Contains("edgeagent: error: " + message, r.Stderr);
        }
        string dir = Path.Combine(Path.GetTempPath(), $"edgeagent-home-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "dup.json"), """{"devices":[{"entity_id":"light.a"},{"entity_id":"light.a"}]}""");
            File.WriteAllText(Path.Combine(dir, "bad.json"), """{"devices":[""");
            File.WriteAllText(Path.Combine(dir, "schema.json"), """{"type":"string","pattern":"x"}""");
            UserError(CliProcess.Run("agent", "devices", "--home", Path.Combine(dir, "dup.json")), "duplicate entity_id 'light.a'");
            UserError(CliProcess.Run("agent", "ask", "--home", Path.Combine(dir, "bad.json"), "hi"), "not valid JSON");
            UserError(CliProcess.Run("run", "-m", RandomModelPath.Value, "-p", "x", "--json-schema", Path.Combine(dir, "schema.json")), "'pattern' is not supported");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Run_with_a_json_schema_emits_valid_json_even_from_random_weights()
    {
        string schema = Path.Combine(Path.GetTempPath(), $"edgeagent-schema-{Guid.NewGuid():N}.json");
        File.WriteAllText(schema, """{"type":"object","properties":{"n":{"type":"integer","minimum":1,"maximum":9},"s":{"type":"string","maxLength":5}},"required":["n","s"]}""");
        try
        {
            var j = Json(CliProcess.Run("run", "-m", RandomModelPath.Value, "-p", "JSON:", "--json-schema", schema, "--temperature", "1", "--seed", "4", "-n", "200", "--json"));
            Assert.Equal("stop", j.GetProperty("finish_reason").GetString());
            var doc = JsonDocument.Parse(j.GetProperty("text").GetString()!).RootElement;
            Assert.InRange(doc.GetProperty("n").GetInt32(), 1, 9);
            Assert.True(doc.GetProperty("s").GetString()!.Length <= 5);
        }
        finally
        {
            File.Delete(schema);
        }
    }

    [Fact]
    public void Demo_short_mode_reaches_the_expected_states()
    {
        string db = Path.Combine(_dir, "demo.db");
        // The scripted day's expected states are asserted with the rule-based module: the default model is not yet
        // accurate enough to reach all of them (docs/agents.md → Results).
        var j = Json(CliProcess.Run("demo", "--rules", "--minutes", "0", "--json", "--memory", db));
        Assert.True(j.GetProperty("expected_states_reached").GetBoolean(), j.GetProperty("mismatches").ToString());
        Assert.Equal("locked", j.GetProperty("states").GetProperty("lock.front_door").GetString());
        Assert.Contains("[17:30]", CliProcess.Run("demo", "--rules", "--minutes", "0", "--memory", db).Stderr);
    }

    [Fact]
    public void Demo_short_mode_runs_end_to_end_with_the_default_model_and_never_unlocks_unconfirmed()
    {
        string db = Path.Combine(_dir, "demo.db");
        var j = Json(CliProcess.Run("demo", "--minutes", "0", "--json", "--threads", "2", "--memory", db));
        Assert.StartsWith("llm:agent-4x128.gguf", j.GetProperty("understanding").GetString());
        // With the grounding prior the model reaches every expected state of the scripted day (docs/agents.md → Demo).
        Assert.True(j.GetProperty("expected_states_reached").GetBoolean(), string.Join("; ", j.GetProperty("mismatches").EnumerateArray().Select(m => m.GetString())));
        var turns = j.GetProperty("turns").EnumerateArray().ToList();
        Assert.NotEmpty(turns);
        foreach (var turn in turns.Where(t => !t.GetProperty("request").GetString()!.StartsWith("yes", StringComparison.Ordinal)))
        {
            int unlocks = turn.GetProperty("tool_calls").EnumerateArray().Count(c => c.GetProperty("name").GetString() == "lock.unlock");
            Assert.Equal(unlocks, turn.GetProperty("blocked").EnumerateArray().Count(b => b.GetProperty("name").GetString() == "lock.unlock"));
        }
    }
}
