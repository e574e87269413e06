using System.CommandLine;
using System.Text.Json.Nodes;
using EdgeAgent.Agents;
using EdgeAgent.Agents.Dataset;
using EdgeAgent.Agents.Decision;
using EdgeAgent.Agents.Demo;
using EdgeAgent.Agents.Devices;
using EdgeAgent.Agents.Evaluation;
using EdgeAgent.Agents.Execution;
using EdgeAgent.Agents.Memory;
using EdgeAgent.Agents.Perception;
using EdgeAgent.Agents.Tools;
using EdgeAgent.Agents.Understanding;
using EdgeAgent.Inference.Constraints;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgeagent agent devices|ask|dataset|eval</c> and <c>edgeagent demo</c> (docs/cli.md → Agents).</summary>
internal static class AgentCommands
{
    public static Command Create()
    {
        var agent = new Command("agent", "The home agent: list devices and tools, ask for something, make and score tool-call datasets.")
        {
            Devices(), Ask(), DatasetCommand(), Eval(),
        };
        return agent;
    }

    private static Option<string?> HomeOption() => new("--home") { Description = "HOME.json with the devices (default: the built-in demo home)." };

    internal static Option<string?> ModelOption() => new("--model", "-m")
    {
        Description = $"Instruct GGUF model for understanding (ChatML/Llama 3 templates). Default: the embedded model models/{DefaultModel.FileName}, trained on synthetic homes.",
    };

    internal static Option<int?> BeamsOption() => new("--beams")
    {
        Description = $"Answers kept while decoding: 1 is greedy; more is a beam search under the grammar (about that many times the decoding work). Default: {DefaultModel.BeamWidth} with the embedded model, 1 with --model.",
        Validators = { r => { if (r.GetValueOrDefault<int?>() is < 1) { r.AddError("--beams must be at least 1"); } } },
    };

    internal static Option<bool> NoGroundingOption() => new("--no-grounding")
    {
        Description = "Rank the model's answers by its own probabilities alone, without the grounding prior (device names, numbers and messages taken from the request; docs/agents.md → Grounding).",
    };

    internal static Option<bool> NoSplitOption() => new("--no-split")
    {
        Description = "Decode a compound request (\"close the gate; lamp: off and then heat to 21\") as one, instead of clause by clause (docs/agents.md → Clauses).",
    };

    internal static Option<bool> RulesOption() => new("--rules")
    {
        Description = "Use the rule-based fallback (not a language model) instead of a model.",
    };

    internal static List<Device> LoadHome(string? path)
    {
        try
        {
            return path is null ? DemoHome.Create() : HomeFile.Load(path);
        }
        catch (HomeFormatException e)
        {
            throw new UserErrorException(e.Message);
        }
    }

    internal static IUnderstanding OpenUnderstanding(string? model, bool rules, int threads, int? beams = null, bool noGrounding = false, bool noSplit = false)
    {
        if (rules)
        {
            if (model is not null)
            {
                throw new UserErrorException("give either --model or --rules, not both");
            }
            if (beams is not null)
            {
                throw new UserErrorException("--beams applies to a language model, not to --rules");
            }
            if (noGrounding)
            {
                throw new UserErrorException("--no-grounding applies to a language model, not to --rules");
            }
            if (noSplit)
            {
                throw new UserErrorException("--no-split applies to a language model, not to --rules");
            }
            Console.Error.WriteLine($"[understanding: {RuleBasedUnderstanding.Label}]");
            return new RuleBasedUnderstanding();
        }
        var weights = noGrounding ? null : GroundingWeights.Default;
        if (model is null)
        {
            model = DefaultModel.Find()
                ?? throw new UserErrorException($"the default model models/{DefaultModel.FileName} was not found (rebuild it with scripts/train-agent-model.sh); give --model PATH or --rules");
            var llm = LlmUnderstanding.Open(model, threads, DefaultModel.Context, $"llm:{DefaultModel.FileName} (default model)", beams ?? DefaultModel.BeamWidth, weights, !noSplit);
            Console.Error.WriteLine($"[understanding: {llm.Name}]");
            return llm;
        }
        return LlmUnderstanding.Open(model, threads, beamWidth: beams ?? 1, grounding: weights, splitClauses: !noSplit);
    }

    private static Command Devices()
    {
        var home = HomeOption();
        var json = CommonOptions.Json();
        var cmd = new Command("devices", "List the home's devices and the tools the agent can call on them.") { home, json };
        cmd.SetAction(r => CliRunner.Run(() =>
        {
            var devices = LoadHome(r.GetValue(home));
            var tools = ToolCatalog.Available(devices).ToList();
            if (r.GetValue(json))
            {
                CliRunner.WriteJson(new JsonObject
                {
                    ["devices"] = new JsonArray(devices.Select(d => (JsonNode)new JsonObject
                    {
                        ["entity_id"] = d.EntityId, ["name"] = d.Name, ["area"] = d.Area, ["domain"] = d.Domain,
                        ["state"] = d.State, ["attributes"] = d.Attributes.DeepClone(),
                    }).ToArray()),
                    ["tools"] = new JsonArray(tools.Select(t => (JsonNode)new JsonObject
                    {
                        ["name"] = t.Tool.Name, ["description"] = t.Tool.Description,
                        ["parameters"] = ToolCatalog.ParametersSchema(t.Tool, t.Entities),
                    }).ToArray()),
                });
                return 0;
            }
            foreach (var area in devices.GroupBy(d => d.Area))
            {
                Console.Out.WriteLine($"{(area.Key.Length > 0 ? area.Key : "(no area)")}:");
                foreach (var d in area)
                {
                    Console.Out.WriteLine($"  {d.EntityId,-34} {d.Name,-30} {DeviceCommands.Describe(d)}");
                }
            }
            Console.Out.WriteLine("Tools: " + string.Join(", ", tools.Select(t => t.Tool.Name)));
            return 0;
        }));
        return cmd;
    }

    private static Command Ask()
    {
        var home = HomeOption();
        var model = ModelOption();
        var rules = RulesOption();
        var dryRun = new Option<bool>("--dry-run") { Description = "Decide but do not execute." };
        var confirm = new Option<bool>("--confirm") { Description = "Confirm sensitive actions (lock.unlock) asked for in this command." };
        var memoryPath = new Option<string?>("--memory") { Description = "SQLite file for events, decisions and results (default: not kept)." };
        var threads = CommonOptions.Threads();
        var beams = BeamsOption();
        var noGrounding = NoGroundingOption();
        var noSplit = NoSplitOption();
        var json = CommonOptions.Json();
        var command = new Argument<string>("COMMAND") { Description = "What to do, in words." };
        var cmd = new Command("ask", "Ask the agent to do something; prints the tool calls, what the policy blocked and the reply.")
        {
            home, model, rules, dryRun, confirm, memoryPath, threads, beams, noGrounding, noSplit, json, command,
        };
        cmd.SetAction(r => CliRunner.Run(() =>
        {
            string text = r.GetValue(command) ?? "";
            if (string.IsNullOrWhiteSpace(text))
            {
                throw new UserErrorException("the command is empty");
            }
            var devices = LoadHome(r.GetValue(home));
            var registry = new DeviceRegistry(devices);
            var understanding = OpenUnderstanding(r.GetValue(model), r.GetValue(rules), r.GetValue(threads), r.GetValue(beams), r.GetValue(noGrounding), r.GetValue(noSplit));
            try
            {
                using var memory = new AgentMemory(r.GetValue(memoryPath) ?? ":memory:");
                var notes = new List<string>();
                var loop = new AgentLoop(registry, understanding, new Policy(registry), new LocalExecutor(registry, new NoteSink(notes)),
                    memory, TimeProvider.System, new MemoryLog(line => Console.Error.WriteLine(line)));
                // Warm up (load, JIT, vocabulary trie, cached system prompt) so latency is the warm model's.
                understanding.Propose(new UnderstandingInput(registry.Devices, [], "hello"));
                var turn = loop.HandleAsync(Observation.Command(DateTimeOffset.UtcNow, text, r.GetValue(confirm)), r.GetValue(dryRun), CancellationToken.None)
                    .GetAwaiter().GetResult();
                if (r.GetValue(json))
                {
                    CliRunner.WriteJson(TurnJson(turn));
                }
                else
                {
                    var log = new MemoryLog(line => Console.Out.WriteLine(line));
                    DemoRunner.LogTurn(turn, log);
                    Console.Out.WriteLine($"reply: {turn.Proposal.Reply}");
                    Console.Out.WriteLine(r.GetValue(dryRun) ? "(dry run: nothing executed)" : turn.Executed ? "(executed on the in-process simulated home)" : "(nothing executed)");
                }
            }
            finally
            {
                (understanding as IDisposable)?.Dispose();
            }
            return 0;
        }));
        return cmd;
    }

    internal static JsonObject TurnJson(AgentTurn turn) => new()
    {
        ["tool_calls"] = new JsonArray(turn.Calls.Select(c => (JsonNode)c.Call.ToJson()).ToArray()),
        ["reply"] = turn.Proposal.Reply,
        ["blocked"] = new JsonArray(turn.Blocked.Select(c => (JsonNode)new JsonObject
        {
            ["name"] = c.Call.Name, ["arguments"] = c.Call.Arguments.DeepClone(), ["reason"] = c.Decision.Reason,
        }).ToArray()),
        ["executed"] = turn.Executed,
        ["latency_ms"] = Math.Round(turn.LatencyMs, 3),
        ["understanding"] = turn.Understanding,
    };

    private sealed class NoteSink(List<string> notes) : IAgentLogSink
    {
        public void Notify(string message) => notes.Add(message);
    }

    private static Command DatasetCommand()
    {
        var split = new Option<string>("--split") { Description = "train or eval (held-out templates and names).", DefaultValueFactory = _ => "train" };
        var count = new Option<int>("--count") { Description = "Examples to generate.", DefaultValueFactory = _ => 1000, Validators = { r => CommonOptions.Positive(r, "--count") } };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 1 };
        var format = new Option<string>("--format") { Description = "jsonl (examples with homes, for eval) or text (ChatML training corpus, one example per chat).", DefaultValueFactory = _ => "jsonl" };
        var output = new Option<string>("--output", "-o") { Description = "Output file.", Required = true };
        var turns = new Option<int>("--turns") { Description = "text: requests per chat about the same home (--count chats).", DefaultValueFactory = _ => 1, Validators = { r => CommonOptions.Positive(r, "--turns") } };
        var madeUpNames = new Option<double?>("--made-up-names") { Description = "Share of devices with made-up names (0-1; default: the split's own).", Validators = { r => Share(r, "--made-up-names") } };
        var madeUpMessages = new Option<double?>("--made-up-messages") { Description = "Share of notifications with made-up messages (0-1; default: the split's own).", Validators = { r => Share(r, "--made-up-messages") } };
        var multiShare = new Option<double?>("--multi-share") { Description = "Share of multi-action requests (0-1; the other kinds keep their proportions; default: the generator's mix, 20 %).", Validators = { r => Share(r, "--multi-share") } };
        var moreSmallTalk = new Option<bool>("--more-small-talk") { Description = "Draw no-tool requests from the training split's longer list of small talk and requests outside the home too (train only)." };
        var cmd = new Command("dataset", "Generate synthetic tool-call examples: random homes, phrasings, multi-action, numeric, no-tool requests.")
        {
            split, count, seed, format, output, turns, madeUpNames, madeUpMessages, multiShare, moreSmallTalk,
        };
        cmd.SetAction(r => CliRunner.Run(() =>
        {
            string fmt = r.GetValue(format)!;
            if (fmt is not ("jsonl" or "text"))
            {
                throw new UserErrorException("--format must be jsonl or text");
            }
            var set = TemplateSet.Load(r.GetValue(split)!);
            set = set with
            {
                MadeUpNames = r.GetValue(madeUpNames) ?? set.MadeUpNames,
                MadeUpMessages = r.GetValue(madeUpMessages) ?? set.MadeUpMessages,
                MultiShare = r.GetValue(multiShare),
                WithMoreSmallTalk = r.GetValue(moreSmallTalk),
            };
            if (set.WithMoreSmallTalk && set.MoreSmallTalk.Length == 0)
            {
                throw new UserErrorException($"--more-small-talk: the {set.Split} split has no extra small talk (train only)");
            }
            var generator = new DatasetGenerator(set, r.GetValue(seed));
            using var w = new StreamWriter(r.GetValue(output)!, false, new System.Text.UTF8Encoding(false));
            int n = 0;
            if (fmt == "text" && r.GetValue(turns) > 1)
            {
                foreach (var chat in generator.Conversations(r.GetValue(count), r.GetValue(turns)))
                {
                    w.Write(DatasetExample.ChatText(chat) + "\n");
                    n += chat.Count;
                }
                Console.Error.WriteLine($"wrote {r.GetValue(count)} chats, {n} {r.GetValue(split)} examples to {r.GetValue(output)}");
                return 0;
            }
            foreach (var ex in generator.Generate(r.GetValue(count)))
            {
                w.Write(fmt == "jsonl" ? ex.ToJson().ToJsonString(JsonText.Options) + "\n" : ex.ChatText() + "\n");
                n++;
            }
            Console.Error.WriteLine($"wrote {n} {r.GetValue(split)} examples to {r.GetValue(output)}");
            return 0;
        }));
        return cmd;
    }

    private static void Share(System.CommandLine.Parsing.OptionResult r, string name)
    {
        if (r.GetValueOrDefault<double?>() is { } v && (v < 0 || v > 1 || double.IsNaN(v)))
        {
            r.AddError($"{name} must be between 0 and 1");
        }
    }

    private static Command Eval()
    {
        var model = ModelOption();
        var rules = RulesOption();
        var set = new Option<string?>("--set") { Description = "JSONL examples (default: generate from the held-out eval templates with --count and --seed)." };
        var count = new Option<int>("--count") { Description = "Examples to generate when no --set is given.", DefaultValueFactory = _ => 200 };
        var seed = new Option<int>("--seed") { Description = "Seed when generating.", DefaultValueFactory = _ => 7 };
        var threads = CommonOptions.Threads();
        var beams = BeamsOption();
        var noGrounding = NoGroundingOption();
        var noSplit = NoSplitOption();
        var misses = new Option<int>("--misses") { Description = "How many misses (and invalid answers) to list on stderr, the first ones in the set.", DefaultValueFactory = _ => 20 };
        var json = CommonOptions.Json();
        var cmd = new Command("eval", "Score tool-call understanding: exact calls per tool and request type, schema validity, entities outside the home, latency.")
        {
            model, rules, set, count, seed, threads, beams, noGrounding, noSplit, misses, json,
        };
        cmd.SetAction(r => CliRunner.Run(() =>
        {
            List<DatasetExample> examples;
            if (r.GetValue(set) is { } path)
            {
                examples = [];
                int line = 0;
                foreach (var l in File.Exists(path) ? File.ReadLines(path) : throw new UserErrorException($"file not found: {path}"))
                {
                    line++;
                    if (string.IsNullOrWhiteSpace(l))
                    {
                        continue;
                    }
                    try
                    {
                        examples.Add(DatasetExample.FromJson(JsonNode.Parse(l) as JsonObject ?? throw new UserErrorException($"{path}:{line}: not a JSON object")));
                    }
                    catch (Exception e) when (e is System.Text.Json.JsonException or HomeFormatException)
                    {
                        throw new UserErrorException($"{path}:{line}: {e.Message}");
                    }
                }
            }
            else
            {
                examples = new DatasetGenerator(TemplateSet.Load("eval"), r.GetValue(seed)).Generate(r.GetValue(count)).ToList();
            }
            if (r.GetValue(misses) < 0)
            {
                throw new UserErrorException($"--misses must be 0 or more (got {r.GetValue(misses)})");
            }
            var understanding = OpenUnderstanding(r.GetValue(model), r.GetValue(rules), r.GetValue(threads), r.GetValue(beams), r.GetValue(noGrounding), r.GetValue(noSplit));
            try
            {
                var report = ToolCallEvaluator.Evaluate(understanding, examples, maxFailures: r.GetValue(misses));
                if (r.GetValue(json))
                {
                    CliRunner.WriteJson(new JsonObject
                    {
                        ["understanding"] = report.Understanding, ["examples"] = report.Examples,
                        ["exact_accuracy"] = report.ExactAccuracy, ["schema_valid_rate"] = report.SchemaValidRate,
                        ["entities_outside_home"] = report.EntitiesOutsideHome,
                        ["p50_latency_ms"] = report.P50LatencyMs, ["p95_latency_ms"] = report.P95LatencyMs,
                        ["per_tool"] = Tallies(report.PerTool), ["per_type"] = Tallies(report.PerType),
                    });
                }
                else
                {
                    Console.Out.Write(report.ToMarkdown());
                }
                foreach (var f in report.Failures)
                {
                    Console.Error.WriteLine("miss: " + f);
                }
            }
            finally
            {
                (understanding as IDisposable)?.Dispose();
            }
            return 0;
        }));
        return cmd;
    }

    private static JsonObject Tallies(IReadOnlyDictionary<string, Tally> t)
    {
        var o = new JsonObject();
        foreach (var (k, v) in t.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            o[k] = new JsonObject { ["examples"] = v.Count, ["exact_accuracy"] = v.Accuracy };
        }
        return o;
    }
}
