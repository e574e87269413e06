using System.Text;
using EdgeAgent.Agents.Dataset;
using EdgeAgent.Agents.Demo;
using EdgeAgent.Agents.Evaluation;
using EdgeAgent.Agents.Perception;
using EdgeAgent.Agents.Tools;
using EdgeAgent.Agents.Understanding;
using EdgeAgent.Inference.Constraints;

namespace EdgeAgent.Agents.Tests;

/// <summary>The demo is a timing-dependent end-to-end run (MQTT on loopback, echoes awaited): it runs alone,
/// not beside the assembly's CPU-heavy tests.</summary>
[CollectionDefinition(nameof(DemoTests), DisableParallelization = true)]
public sealed class DemoCollection;

[Collection(nameof(DemoTests))]
public sealed class DemoTests
{
    /// <summary>The CI mode of the demo: real MQTT on loopback, simulated devices, the scripted day at full speed.</summary>
    [Fact]
    public async Task The_scripted_day_leaves_the_devices_in_the_expected_states()
    {
        var log = new MemoryLog();
        string db = Path.Combine(Path.GetTempPath(), $"edgeagent-demo-test-{Guid.NewGuid():N}.db");
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var summary = await DemoRunner.RunAsync(new RuleBasedUnderstanding(), 0, db, log, timeout.Token);
            Assert.True(summary.ExpectedStatesReached, string.Join("; ", summary.Mismatches));
            Assert.Contains("good night, the doors are locked", summary.Notifications);
            // The unlock: first blocked for confirmation, then carried out once confirmed; never otherwise.
            var unlocks = summary.Turns.SelectMany(t => t.Calls).Where(c => c.Call.Name == "lock.unlock").ToList();
            Assert.Equal([Decision.Verdict.NeedsConfirmation, Decision.Verdict.Allow], unlocks.Select(u => u.Decision.Verdict));
            Assert.Contains(log.Lines, l => l.Contains("not JSON"));
            Assert.All(summary.Turns.Where(t => t.Calls.Count > 0 && t.Calls.All(c => c.Decision.Allowed)), t =>
                Assert.True(t.Executed, $"'{t.Request}': " + string.Join("; ", t.Calls.Select(c => $"{c.Call} → {c.Result?.Detail}"))));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var f in new[] { db, db + "-wal", db + "-shm" })
            {
                File.Delete(f);
            }
        }
    }
}

public sealed class DatasetTests
{
    [Fact]
    public void Generation_is_deterministic_for_a_seed()
    {
        string A(int seed) => string.Join("\n", new DatasetGenerator(TemplateSet.Load("train"), seed).Generate(20).Select(e => e.ToJson().ToJsonString()));
        Assert.Equal(A(4), A(4));
        Assert.NotEqual(A(4), A(5));
    }

    [Fact]
    public void A_multi_share_sets_the_share_of_multi_action_requests_and_keeps_the_other_kinds()
    {
        var set = TemplateSet.Load("train");
        var half = new DatasetGenerator(set with { MultiShare = 0.5 }, 3).Generate(2000).ToList();
        double multi = half.Count(e => e.Type == "multi") / 2000.0;
        Assert.InRange(multi, 0.45, 0.55);
        Assert.Equal(DatasetExample.Types.Order(), half.Select(e => e.Type).Distinct().Order());
        // The others keep their proportions (single 32 : numeric 20 of the usual mix).
        double ratio = half.Count(e => e.Type == "single") / (double)half.Count(e => e.Type == "numeric");
        Assert.InRange(ratio, 1.6 * 0.8, 1.6 * 1.25);
        Assert.All(new DatasetGenerator(set with { MultiShare = 1 }, 3).Generate(50), e => Assert.Equal("multi", e.Type));
        // Without it, the corpus of a seed is exactly what it was (the committed model's corpora stay reproducible).
        string A(TemplateSet s) => string.Join("\n", new DatasetGenerator(s, 4).Generate(50).Select(e => e.ToJson().ToJsonString()));
        Assert.Equal(A(set), A(set with { MultiShare = null }));
    }

    [Fact]
    public void More_small_talk_widens_the_no_tool_requests_and_leaves_other_corpora_unchanged()
    {
        var set = TemplateSet.Load("train");
        var more = new DatasetGenerator(set with { WithMoreSmallTalk = true }, 3).Generate(3000).Where(e => e.Type == "no_tool").ToList();
        var extra = set.MoreSmallTalk.Select(p => p[0]).ToHashSet();
        Assert.Contains(more, e => extra.Contains(e.Request));
        Assert.Contains(more, e => set.NoTool.Any(p => p[0] == e.Request));
        Assert.All(more, e => Assert.Empty(e.Expected));
        // Without the flag no extra request appears and a seed's corpus is what it was.
        Assert.DoesNotContain(new DatasetGenerator(set, 3).Generate(3000), e => extra.Contains(e.Request));
        string A(TemplateSet s) => string.Join("\n", new DatasetGenerator(s, 4).Generate(50).Select(e => e.ToJson().ToJsonString()));
        Assert.Equal(A(set), A(set with { WithMoreSmallTalk = false }));
    }

    [Fact]
    public void Evaluation_templates_and_names_are_held_out_from_training()
    {
        var train = TemplateSet.Load("train");
        var eval = TemplateSet.Load("eval");
        Assert.Empty(train.Areas.Intersect(eval.Areas));
        Assert.Empty(train.Messages.Intersect(eval.Messages));
        Assert.Empty(train.Connectors.Intersect(eval.Connectors));
        Assert.Empty(train.NoTool.Select(p => p[0]).Intersect(eval.NoTool.Select(p => p[0])));
        Assert.NotEmpty(train.MoreSmallTalk);
        Assert.Empty(eval.MoreSmallTalk);
        Assert.Empty(train.MoreSmallTalk.Select(p => p[0]).Intersect(eval.NoTool.Select(p => p[0])));
        Assert.Empty(train.MoreSmallTalk.Select(p => p[0]).Intersect(train.NoTool.Select(p => p[0])));
        Assert.Empty(train.Templates.Values.SelectMany(t => t).Intersect(eval.Templates.Values.SelectMany(t => t)));
        Assert.Empty(train.Names.Values.SelectMany(t => t).Intersect(eval.Names.Values.SelectMany(t => t)));
    }

    [Fact]
    public void Every_expected_answer_is_accepted_by_its_homes_grammar_and_all_types_occur()
    {
        var examples = new DatasetGenerator(TemplateSet.Load("eval"), 9).Generate(300).ToList();
        Assert.Equal(DatasetExample.Types.Order(), examples.Select(e => e.Type).Distinct().Order());
        Assert.Contains(examples, e => e.Home.Count >= 40);
        foreach (var e in examples)
        {
            var grammar = new JsonRecognizer(ToolCatalog.AnswerGrammar(e.Home), ToolCatalog.AnswerGrammarOptions);
            Assert.True(grammar.Accepts(Encoding.UTF8.GetBytes(e.Answer)), e.Answer);
            Assert.Contains("<|im_start|>assistant\n" + e.Answer, e.ChatText());
            var back = DatasetExample.FromJson(e.ToJson());
            Assert.Equal(e.Expected.Count, back.Expected.Count);
            Assert.All(e.Expected.Zip(back.Expected), z => Assert.True(z.First.SameAs(z.Second)));
        }
    }

    [Fact]
    public void The_harness_scores_any_understanding_per_tool_and_type()
    {
        var examples = new DatasetGenerator(TemplateSet.Load("train"), 2).Generate(120).ToList();
        var report = ToolCallEvaluator.Evaluate(new RuleBasedUnderstanding(), examples);
        Assert.Equal(120, report.Examples);
        Assert.Equal(1.0, report.SchemaValidRate);
        Assert.Equal(0, report.EntitiesOutsideHome);
        Assert.Equal(120, report.PerType.Values.Sum(t => t.Count));
        Assert.True(report.ExactAccuracy > 0.5, report.ToMarkdown());
        // An understanding that names a device from elsewhere is counted.
        var wrong = new ScriptedUnderstanding(new ToolCall("light.turn_on", new() { ["entity_id"] = "light.not_here" }));
        Assert.Equal(10, ToolCallEvaluator.Evaluate(wrong, examples.Take(10)).EntitiesOutsideHome);
    }
}

public sealed class RuleBasedTests
{
    [Theory]
    [InlineData("turn on the kitchen light and lock the front door", "light.turn_on light.kitchen|lock.lock lock.front_door")]
    [InlineData("set the bedroom light to 30%", "light.turn_on light.bedroom 30")]
    [InlineData("set the thermostat to 22 degrees", "climate.set_temperature climate.thermostat 22")]
    [InlineData("how warm is it in the living room? what's the living room temperature", "sensor.read sensor.living_room_temperature")]
    [InlineData("hello there", "")]
    public void Requests_map_to_calls(string request, string expected)
    {
        var p = new RuleBasedUnderstanding().Propose(new UnderstandingInput(Devices.DemoHome.Create(), [], request));
        string got = string.Join("|", p.Calls.Select(c => string.Join(" ", new[] { c.Name, c.EntityId }.Concat(c.Arguments.Where(a => a.Key != "entity_id").Select(a => a.Value!.ToJsonString())))));
        Assert.Equal(expected, got);
    }
}
