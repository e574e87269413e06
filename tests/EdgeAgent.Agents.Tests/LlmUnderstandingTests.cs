using System.Text.Json;
using EdgeAgent.Agents.Dataset;
using EdgeAgent.Agents.Devices;
using EdgeAgent.Agents.Tools;
using EdgeAgent.Agents.Understanding;
using Json.Schema;

namespace EdgeAgent.Agents.Tests;

/// <summary>The language-model path with a random-weight model: checks validity, not accuracy.</summary>
public sealed class LlmUnderstandingTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Random_model_output_is_always_a_schema_valid_answer_naming_only_existing_entities(int beams)
    {
        using var llm = TestHomes.RandomLlm(beams);
        var generator = new DatasetGenerator(TemplateSet.Load("eval"), seed: 3);
        var homes = new List<List<Device>> { DemoHome.Create() };
        for (int i = 0; i < 3; i++)
        {
            homes.Add(generator.RandomHome().Take(12).ToList());
        }
        foreach (var home in homes)
        {
            var schema = JsonSchema.FromText(ToolCatalog.AnswerSchema(home).ToJsonString(), new BuildOptions { SchemaRegistry = new() });
            var ids = home.Select(d => d.EntityId).ToHashSet();
            foreach (var request in new[] { "turn on the kitchen light", "hello", "set everything to 50" })
            {
                var p = llm.Propose(new UnderstandingInput(home, [], request));
                Assert.True(p.SchemaValid, p.RawOutput);
                using var doc = JsonDocument.Parse(p.RawOutput!);
                Assert.True(schema.Evaluate(doc.RootElement).IsValid, p.RawOutput);
                Assert.All(p.Calls, c => Assert.True(c.EntityId is null || ids.Contains(c.EntityId), c.ToString()));
                Assert.All(p.Calls, c => Assert.NotNull(ToolCatalog.Find(c.Name)));
            }
        }
    }

    [Fact]
    public void The_shared_prompt_prefix_is_evaluated_once()
    {
        using var llm = TestHomes.RandomLlm();
        var home = DemoHome.Create();
        llm.Propose(new UnderstandingInput(home, [], "hello"));
        int full = llm.PromptTokens(new UnderstandingInput(home, [], "turn on the porch light")).Length;
        llm.Propose(new UnderstandingInput(home, [], "turn on the porch light"));
        Assert.True(llm.LastEvaluatedPromptTokens < full / 4, $"{llm.LastEvaluatedPromptTokens} of {full} prompt tokens evaluated");
    }

    [Fact]
    public void A_hundred_device_home_fits_a_compact_prompt()
    {
        var generator = new DatasetGenerator(TemplateSet.Load("train"), seed: 11);
        List<Device> home;
        do
        {
            home = generator.RandomHome();
        }
        while (home.Count < 90);
        string system = PromptBuilder.System(home, []);
        // About 45 bytes a device: with a byte-level BPE of a few thousand tokens, ~10 tokens a device.
        Assert.True(system.Length < 60 * home.Count + 800, $"{system.Length} chars for {home.Count} devices");
        Assert.All(home, d => Assert.Contains(d.EntityId, system));
    }
}
