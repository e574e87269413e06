using System.Text;
using EdgeAgent.Agents.Devices;
using EdgeAgent.Agents.Tools;
using EdgeAgent.Agents.Understanding;
using EdgeAgent.Inference.Constraints;

namespace EdgeAgent.Agents.Tests;

/// <summary><see cref="ClauseSplitter"/> on the demo home, and a model understanding a compound request clause by
/// clause.</summary>
public sealed class ClauseSplitterTests
{
    private static readonly List<Device> Home = DemoHome.Create();

    private static IReadOnlyList<string> Split(string request) => ClauseSplitter.Split(request, Home);

    [Fact]
    public void Commands_joined_by_connectors_become_clauses()
    {
        Assert.Equal(["close the living room blinds", "Kitchen light: off", "thermostat: 23 °C"],
            Split("close the living room blinds; Kitchen light: off and after that thermostat: 23 °C"));
        Assert.Equal(["open the living room blinds", "turn off the porch light"], Split("open the living room blinds, then turn off the porch light"));
        Assert.Equal(["dim the living room lamp to 40%", "set the living room speaker volume to 25"],
            Split("dim the living room lamp to 40% plus set the living room speaker volume to 25"));
    }

    [Fact]
    public void A_list_of_devices_shares_the_words_before_the_first()
    {
        Assert.Equal(["turn off the kitchen light", "turn off the coffee maker", "turn off the living room lamp", "close the blinds"],
            Split("turn off the kitchen light, the coffee maker and the living room lamp, and close the blinds"));
        Assert.Equal(["Turn on the kitchen light", "Turn on the coffee maker"], Split("Turn on the kitchen light and the coffee maker"));
    }

    [Fact]
    public void A_piece_that_names_no_device_stays_with_its_command()
    {
        // The remark stays with the device it is about; the message stays with the command to send it.
        Assert.Equal(["I don't need the kitchen light anymore, turn it off", "set the thermostat to 21"],
            Split("I don't need the kitchen light anymore, turn it off and then set the thermostat to 21"));
        Assert.Equal(["send a message: dinner is ready and then turn on the porch light"],
            Split("send a message: dinner is ready and then turn on the porch light"));
        // A comma between two commands that are more than a device's name does not cut.
        Assert.Equal(["kitchen light: on, porch light: off"], Split("kitchen light: on, porch light: off"));
    }

    [Fact]
    public void No_cut_falls_inside_a_device_name_and_single_requests_come_back_whole()
    {
        // The injected device name contains " and ": it is one name, not two commands.
        Assert.Equal(["turn on the " + DemoHome.InjectionName], Split("turn on the " + DemoHome.InjectionName));
        foreach (var request in new[] { "turn on the kitchen light", "tell everyone the front door is open", "hello", "" })
        {
            Assert.Equal([request], Split(request));
        }
    }

    [Fact]
    public void A_compound_request_is_understood_clause_by_clause_into_one_valid_answer()
    {
        using var split = TestHomes.RandomLlm(beams: 2, splitClauses: true);
        using var whole = TestHomes.RandomLlm(beams: 2);
        string request = "close the living room blinds; kitchen light: off and after that thermostat: 23 °C";
        var p = split.Propose(new UnderstandingInput(Home, [], request));
        var parts = Split(request).Select(c => whole.Propose(new UnderstandingInput(Home, [], c))).ToList();
        // The same calls as each clause on its own, in order, and one answer of the grammar.
        Assert.Equal(LlmUnderstanding.Distinct(parts.SelectMany(q => q.Calls)).Take(ToolCatalog.MaxCalls).Select(c => c.ToString()), p.Calls.Select(c => c.ToString()));
        Assert.True(p.SchemaValid);
        var grammar = new JsonRecognizer(ToolCatalog.AnswerGrammar(Home), ToolCatalog.AnswerGrammarOptions);
        Assert.True(grammar.Accepts(Encoding.UTF8.GetBytes(p.RawOutput!)), p.RawOutput);
        Assert.Equal(parts.Sum(q => q.GeneratedTokens), p.GeneratedTokens);
    }
}

/// <summary>With grounding, an answer the prior charges is searched again with twice the beams.</summary>
public sealed class RetrySearchTests
{
    [Fact]
    public void A_random_model_under_grounding_and_clauses_still_gives_valid_answers_about_the_home()
    {
        using var llm = TestHomes.RandomLlm(beams: 2, splitClauses: true, grounding: GroundingWeights.Default);
        Assert.Equal(4, llm.RetryBeamWidth);
        var home = DemoHome.Create();
        var grammar = new JsonRecognizer(ToolCatalog.AnswerGrammar(home), ToolCatalog.AnswerGrammarOptions);
        var ids = home.Select(d => d.EntityId).ToHashSet();
        foreach (var request in new[] { "turn on the kitchen light and set the thermostat to 21", "kitchen light: 40%", "hello" })
        {
            var p = llm.Propose(new UnderstandingInput(home, [], request));
            Assert.True(p.SchemaValid, p.RawOutput);
            Assert.True(grammar.Accepts(Encoding.UTF8.GetBytes(p.RawOutput!)), p.RawOutput);
            Assert.All(p.Calls, c => Assert.True(c.EntityId is null || ids.Contains(c.EntityId), c.ToString()));
        }
    }
}

/// <summary><see cref="LlmUnderstanding.Distinct"/>: a call the same as an earlier one is dropped, order kept.</summary>
public sealed class DistinctCallsTests
{
    [Fact]
    public void Repeated_calls_are_one_call()
    {
        static ToolCall C(string name, string entity, double? level = null)
        {
            var args = new System.Text.Json.Nodes.JsonObject { ["entity_id"] = entity };
            if (level is { } l)
            {
                args["brightness"] = l;
            }
            return new ToolCall(name, args);
        }
        var calls = new[]
        {
            C("light.turn_on", "light.a", 40), C("light.turn_off", "light.b"), C("light.turn_on", "light.a", 40.0),
            C("light.turn_on", "light.a", 50), C("light.turn_off", "light.b"),
        };
        Assert.Equal(["light.turn_on light.a 40", "light.turn_off light.b ", "light.turn_on light.a 50"],
            LlmUnderstanding.Distinct(calls).Select(c => $"{c.Name} {c.EntityId} {c.Arguments["brightness"]}"));
    }
}
