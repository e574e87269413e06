using System.Text;
using System.Text.Json.Nodes;
using EdgeAgent.Agents.Dataset;
using EdgeAgent.Agents.Devices;
using EdgeAgent.Agents.Tools;
using EdgeAgent.Agents.Understanding;
using EdgeAgent.Inference.Constraints;
using EdgeAgent.Inference.Generation;

namespace EdgeAgent.Agents.Tests;

/// <summary>
/// <see cref="GroundingPrior"/>: its potential never rises as an answer is written (what keeps the beam search's
/// stopping rule exact), each term scores what it says, and a beam search with it ranks by log-probability plus
/// potential while reporting the model's own log-probability.
/// </summary>
public sealed class GroundingPriorTests
{
    private static double P(GroundingPrior prior, string answer) => prior.Potential(Encoding.UTF8.GetBytes(answer));

    private static string Answer(params ToolCall[] calls) => PromptBuilder.Answer(calls, "OK.");

    private static ToolCall Call(string name, string? entity = null, string? key = null, JsonNode? value = null)
    {
        var args = new JsonObject();
        if (entity is not null)
        {
            args["entity_id"] = entity;
        }
        if (key is not null)
        {
            args[key] = value;
        }
        return new ToolCall(name, args);
    }

    [Fact]
    public void The_potential_never_rises_along_any_answer_written_byte_by_byte()
    {
        // Expected answers of generated examples, and the same answers with another entity, another number, a
        // message with foreign words or characters, dropped calls: every byte prefix scores at most its predecessor.
        var rng = new Random(5);
        int checkedAnswers = 0;
        foreach (var ex in new DatasetGenerator(TemplateSet.Load("eval"), seed: 11).Generate(120))
        {
            var prior = new GroundingPrior(ex.Home, ex.Request);
            var variants = new List<IEnumerable<ToolCall>> { ex.Expected, ex.Expected.Skip(1) };
            var other = ex.Expected.Select(c =>
            {
                var args = (JsonObject)c.Arguments.DeepClone();
                if (args["entity_id"] is not null)
                {
                    var sameDomain = ex.Home.Where(d => d.EntityId.StartsWith(c.Name.Split('.')[0] == "sensor" ? "" : c.Name.Split('.')[0] + ".", StringComparison.Ordinal)).ToList();
                    args["entity_id"] = sameDomain.Count > 0 ? sameDomain[rng.Next(sameDomain.Count)].EntityId : args["entity_id"]!.GetValue<string>();
                }
                foreach (var key in new[] { "brightness", "volume", "temperature" })
                {
                    if (args[key] is not null)
                    {
                        args[key] = rng.Next(5, 35);
                    }
                }
                if (args["message"] is { } m)
                {
                    args["message"] = m.GetValue<string>() + (rng.Next(2) == 0 ? " zebra" : " \u00e9t\u00e9 \U0001F600 ");
                }
                return new ToolCall(c.Name, args);
            });
            variants.Add(other.ToList());
            foreach (var calls in variants)
            {
                byte[] answer = Encoding.UTF8.GetBytes(PromptBuilder.Answer(calls, ex.Reply));
                double previous = prior.Potential([]);
                Assert.Equal(0, previous);
                for (int i = 1; i <= answer.Length; i++)
                {
                    double p = prior.Potential(answer.AsSpan(0, i));
                    Assert.True(p <= previous + 1e-9, $"\"{ex.Request}\": potential rose from {previous} to {p} at byte {i} of {Encoding.UTF8.GetString(answer)}");
                    previous = p;
                }
                checkedAnswers++;
            }
        }
        Assert.Equal(360, checkedAnswers);
    }

    [Fact]
    public void Expected_answers_of_the_held_out_set_mostly_cost_nothing()
    {
        // The prior encodes what the answers of requests look like: named devices, the request's numbers, copied
        // messages. It is not an oracle (a request may name a device by area and kind), but most answers are free.
        var examples = new DatasetGenerator(TemplateSet.Load("eval"), seed: 3).Generate(200).ToList();
        int free = examples.Count(ex => new GroundingPrior(ex.Home, ex.Request).Potential(Encoding.UTF8.GetBytes(PromptBuilder.Answer(ex.Expected, ex.Reply))) == 0);
        Assert.True(free >= 180, $"{free} of {examples.Count} expected answers cost nothing");
    }

    [Fact]
    public void A_named_device_beats_others_of_its_kind_and_a_partial_id_counts_its_best_completion()
    {
        var home = DemoHome.Create();
        var prior = new GroundingPrior(home, "turn on the kitchen light");
        var w = GroundingWeights.Default;
        Assert.Equal(0, P(prior, Answer(Call("light.turn_on", "light.kitchen"))));
        // "light" matches, "bedroom" not; and the kitchen light, named, is left out once the calls close.
        Assert.Equal(-w.Entity / 2 - w.Missed, P(prior, Answer(Call("light.turn_on", "light.bedroom"))), 9);
        Assert.Equal(-w.Entity - w.Missed, P(prior, Answer(Call("switch.turn_on", "switch.coffee_maker"))), 9);
        Assert.Equal(-w.Missed, P(prior, Answer()), 9);
        // Partial texts: the best any completion can still reach.
        Assert.Equal(0, P(prior, "{\"tool_calls\":[{\"name\":\"light.turn_o"));
        Assert.Equal(-w.Entity, P(prior, "{\"tool_calls\":[{\"name\":\"switch."));
        Assert.Equal(0, P(prior, "{\"tool_calls\":[{\"name\":\"light.turn_on\",\"arguments\":{\"entity_id\":\"light.k"));
        Assert.Equal(-w.Entity / 2, P(prior, "{\"tool_calls\":[{\"name\":\"light.turn_on\",\"arguments\":{\"entity_id\":\"light.b"), 9);
        Assert.Equal(["light.kitchen"], prior.Named);
        Assert.Equal(1.0, prior.Match("light.kitchen"));
    }

    [Fact]
    public void Numbers_repeats_misses_and_messages_cost_what_their_weights_say()
    {
        var home = DemoHome.Create();
        var w = GroundingWeights.Default;
        var dim = new GroundingPrior(home, "set the kitchen light to 40 percent");
        Assert.Equal(0, P(dim, Answer(Call("light.turn_on", "light.kitchen", "brightness", 40))));
        Assert.Equal(-w.Number - w.Missed, P(dim, Answer(Call("light.turn_on", "light.kitchen", "brightness", 45))), 9);
        Assert.Equal(-w.Missed, P(dim, Answer(Call("light.turn_on", "light.kitchen"))), 9); // 40 unused
        Assert.Equal(0, P(dim, "{\"tool_calls\":[{\"name\":\"light.turn_on\",\"arguments\":{\"entity_id\":\"light.kitchen\",\"brightness\":4"));

        var two = new GroundingPrior(home, "turn on the kitchen light and the porch light");
        Assert.Equal(0, P(two, Answer(Call("light.turn_on", "light.kitchen"), Call("light.turn_on", "light.porch"))));
        Assert.Equal(-w.Missed, P(two, Answer(Call("light.turn_on", "light.kitchen"))), 9);
        Assert.Equal(-w.Repeat - w.Missed, P(two, Answer(Call("light.turn_on", "light.kitchen"), Call("light.turn_on", "light.kitchen"))), 9);

        var tell = new GroundingPrior(home, "tell everyone the pizza is here");
        Assert.Equal(0, P(tell, Answer(Call("notify.send", key: "message", value: "the pizza is here"))));
        Assert.Equal(-w.Message, P(tell, Answer(Call("notify.send", key: "message", value: "the pizza is hot"))), 9);
        Assert.Equal(-2 * w.Message, P(tell, Answer(Call("notify.send", key: "message", value: "the piazza is hot"))), 9);
        Assert.Equal(-w.Message, P(tell, Answer(Call("notify.send", key: "message", value: "pizza the is here"))), 9); // words, not one piece
        Assert.Equal(0, P(tell, "{\"tool_calls\":[{\"name\":\"notify.send\",\"arguments\":{\"message\":\"the piz"));
        Assert.Equal(-w.Message, P(tell, "{\"tool_calls\":[{\"name\":\"notify.send\",\"arguments\":{\"message\":\"the pix"), 9);
        // A partial UTF-8 character at the end is left out until it is complete.
        byte[] partial = [.. Encoding.UTF8.GetBytes("{\"tool_calls\":[{\"name\":\"notify.send\",\"arguments\":{\"message\":\"the "), 0xF0, 0x9F];
        Assert.Equal(0, tell.Potential(partial));
    }

    [Fact]
    public void A_tool_whose_sibling_the_request_names_costs_the_tool_weight()
    {
        var home = DemoHome.Create();
        var w = GroundingWeights.Default;
        var off = new GroundingPrior(home, "turn off the kitchen light");
        Assert.Equal(0, P(off, Answer(Call("light.turn_off", "light.kitchen"))));
        Assert.Equal(-w.Tool, P(off, Answer(Call("light.turn_on", "light.kitchen"))), 9);
        Assert.Equal(0, P(off, "{\"tool_calls\":[{\"name\":\"light.turn_o"));
        Assert.Equal(-w.Tool, P(off, "{\"tool_calls\":[{\"name\":\"light.turn_on\""), 9);
        var unlock = new GroundingPrior(home, "unlock the front door");
        Assert.Equal(-w.Tool, P(unlock, Answer(Call("lock.lock", "lock.front_door"))), 9);
        Assert.Equal(0, P(unlock, Answer(Call("lock.unlock", "lock.front_door"))));
        // Neither word, or both: no cost either way.
        var darken = new GroundingPrior(home, "darken the kitchen light");
        Assert.Equal(0, P(darken, Answer(Call("light.turn_on", "light.kitchen"))));
        Assert.Equal(0, P(darken, Answer(Call("light.turn_off", "light.kitchen"))));
        var both = new GroundingPrior(home, "turn on the kitchen light and turn off the porch light");
        Assert.Equal(0, P(both, Answer(Call("light.turn_on", "light.kitchen"), Call("light.turn_off", "light.porch"))));
        // A number after a device's name is that device's: a tool that cannot take it, while a sibling can, costs the
        // Tool weight (light.turn_off has no brightness, light.turn_on has); a number of another device does not.
        var dim = new GroundingPrior(home, "kitchen light: 40%");
        Assert.Equal(0, P(dim, Answer(Call("light.turn_on", "light.kitchen", "brightness", 40))));
        Assert.Equal(-w.Tool - w.Missed, P(dim, Answer(Call("light.turn_off", "light.kitchen"))), 9);
        Assert.Equal(-w.Tool, P(dim, "{\"tool_calls\":[{\"name\":\"light.turn_off\",\"arguments\":{\"entity_id\":\"light.kitchen\""), 9);
        var other = new GroundingPrior(home, "kitchen light off and the thermostat to 21 degrees");
        Assert.Equal(0, P(other, Answer(Call("light.turn_off", "light.kitchen"), Call("climate.set_temperature", "climate.thermostat", "temperature", 21))));
    }

    [Fact]
    public void A_beam_search_with_the_prior_ranks_by_probability_plus_potential_and_reports_both()
    {
        using var session = InferenceSession.Open(DefaultModel.Find() ?? throw new InvalidOperationException($"models/{DefaultModel.FileName} is missing"), threads: 2, contextLength: 2048);
        var home = DemoHome.Create();
        const string request = "turn on the porch light";
        var prompt = new LlmUnderstanding(session, "prompt").PromptTokens(new UnderstandingInput(home, [], request));
        var trie = TokenTrie.For(session.Model.Tokenizer);
        GrammarMask Mask() => new(new JsonRecognizer(ToolCatalog.AnswerGrammar(home), ToolCatalog.AnswerGrammarOptions), trie);

        // A prior that only accepts the bedroom light (a device the request does not name) forces it.
        var forced = new OnlyEntity("light.bedroom");
        session.Evaluate(prompt);
        var found = new BeamSearch(session, 2).Run(prompt, Mask(), maxTokens: 200, prior: forced);
        Assert.True(found.Complete);
        string text = Encoding.UTF8.GetString(found.Output);
        Assert.Contains("\"light.bedroom\"", text);
        Assert.Equal(forced.Potential(found.Output), found.Potential);

        // The reported log-probability is the model's own, recomputed token by token.
        session.Evaluate(prompt);
        var mask = Mask();
        double total = 0;
        var logits = new float[session.Logits.Length];
        foreach (int t in found.Tokens)
        {
            session.Logits.CopyTo(logits, 0);
            mask.Apply(logits);
            double max = logits.Max();
            total += logits[t] - (max + Math.Log(logits.Sum(x => Math.Exp(x - max))));
            mask.Accept(t);
            session.Append([t]);
        }
        Assert.Equal(total, found.LogProbability, 3);

        // The grounding prior itself: the porch light, and a potential of 0.
        session.Evaluate(prompt);
        var grounded = new BeamSearch(session, 2).Run(prompt, Mask(), maxTokens: 200, prior: new GroundingPrior(home, request));
        Assert.Contains("\"light.porch\"", Encoding.UTF8.GetString(grounded.Output));
        Assert.Equal(0, grounded.Potential);
    }

    [Fact]
    public void While_a_message_is_written_the_prior_offers_the_rest_of_the_request()
    {
        var prior = new GroundingPrior(DemoHome.Create(), "Broadcast: practice starts at \"six\"");
        const string open = "{\"tool_calls\":[{\"name\":\"notify.send\",\"arguments\":{\"message\":\"";
        List<string> C(string output) => prior.Continuations(Encoding.UTF8.GetBytes(output)).Select(Encoding.UTF8.GetString).ToList();

        // An empty message: the request from each of its words on (in its own case, JSON-escaped, ≤ 32 characters).
        Assert.Equal(["Broadcast: practice starts at \\\"s", "practice starts at \\\"six\\\"", "starts at \\\"six\\\"", "at \\\"six\\\"", "six\\\""], C(open));
        // A message that matches the request continues after the match (in any case)...
        Assert.Equal(["actice starts at \\\"six\\\""], C(open + "pr"));
        Assert.Equal([" starts at \\\"six\\\""], C(open + "PRACTICE"));
        // ...or after its last word where a word of the request starts so ("broadcast" has "st" inside, not at its
        // start) when the whole does not; between words, from every word again.
        Assert.Equal(["arts at \\\"six\\\""], C(open + "the st"));
        Assert.Equal(5, C(open + "the ").Count);
        // Outside a message, inside an escape, after the message: nothing.
        Assert.Empty(C("{\"tool_calls\":[{\"name\":\"notify.se"));
        Assert.Empty(C(open + "at \\"));
        Assert.Empty(C(open + "practice\"}}"));
        Assert.Empty(C(open + "practice\"}}],\"reply\":\"OK"));
    }

    [Fact]
    public void A_beam_search_considers_the_tokens_a_prior_nominates_however_improbable()
    {
        using var session = InferenceSession.Open(DefaultModel.Find() ?? throw new InvalidOperationException($"models/{DefaultModel.FileName} is missing"), threads: 2, contextLength: 2048);
        var home = DemoHome.Create();
        var prompt = new LlmUnderstanding(session, "prompt").PromptTokens(new UnderstandingInput(home, [], "turn on the porch light"));
        var trie = TokenTrie.For(session.Model.Tokenizer);
        GrammarMask Mask() => new(new JsonRecognizer(ToolCatalog.AnswerGrammar(home), ToolCatalog.AnswerGrammarOptions), trie);
        const string target = "{\"tool_calls\":[{\"name\":\"notify.send\",\"arguments\":{\"message\":\"zq xvkj\"}}],\"reply\":\"";

        // Only the model's two most probable tokens a step: it does not write this answer to "turn on the porch light".
        session.Evaluate(prompt);
        var alone = new BeamSearch(session, 2) { PriorCandidates = 2 }.Run(prompt, Mask(), maxTokens: 200, prior: new Target(target, nominate: false));
        Assert.DoesNotContain("zq xvkj", Encoding.UTF8.GetString(alone.Output));
        // Nominated, the tokens that write it join the candidates, and the prior's potential makes it win.
        session.Evaluate(prompt);
        var found = new BeamSearch(session, 2) { PriorCandidates = 2 }.Run(prompt, Mask(), maxTokens: 200, prior: new Target(target, nominate: true));
        Assert.True(found.Complete);
        Assert.StartsWith(target, Encoding.UTF8.GetString(found.Output));
        Assert.Equal(0, found.Potential);
    }

    /// <summary>A potential of 0 while the output agrees with <paramref name="target"/>, −100 once it does not; with
    /// <paramref name="nominate"/>, the rest of the target as the continuation.</summary>
    private sealed class Target(string target, bool nominate) : IOutputPrior
    {
        private readonly byte[] _target = Encoding.UTF8.GetBytes(target);

        public double Potential(ReadOnlySpan<byte> output) =>
            output.Length <= _target.Length ? (_target.AsSpan().StartsWith(output) ? 0 : -100) : (output.StartsWith(_target) ? 0 : -100);

        public IReadOnlyList<byte[]> Continuations(ReadOnlySpan<byte> output) =>
            nominate && output.Length < _target.Length && _target.AsSpan().StartsWith(output) ? [_target[output.Length..]] : [];
    }

    /// <summary>A potential of 0 while the text could still name <see cref="entity"/> in every call, −100 after.</summary>
    private sealed class OnlyEntity(string entity) : IOutputPrior
    {
        public double Potential(ReadOnlySpan<byte> output)
        {
            string text = Encoding.UTF8.GetString(output);
            int at = 0;
            while ((at = text.IndexOf("\"entity_id\":\"", at, StringComparison.Ordinal)) >= 0)
            {
                at += 13;
                string rest = text[at..];
                int end = rest.IndexOf('"');
                string id = end < 0 ? rest : rest[..end];
                if (end < 0 ? !entity.StartsWith(id, StringComparison.Ordinal) : id != entity)
                {
                    return -100;
                }
            }
            return 0;
        }
    }
}
