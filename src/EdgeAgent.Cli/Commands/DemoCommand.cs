using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using EdgeAgent.Agents.Demo;
using EdgeAgent.Agents.Devices;
using EdgeAgent.Agents.Execution;
using EdgeAgent.Agents.Perception;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgeagent demo</c>: embedded broker, simulated home, the agent and a scripted day.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var minutes = new Option<double>("--minutes") { Description = "Wall-clock minutes to spread the scripted day over (0: as fast as possible, for CI).", DefaultValueFactory = _ => 1.0 };
        var model = AgentCommands.ModelOption();
        var rules = AgentCommands.RulesOption();
        var memory = new Option<string?>("--memory") { Description = "SQLite memory file (default: edgeagent-demo.db in the temp folder; kept across runs)." };
        var threads = CommonOptions.Threads();
        var beams = AgentCommands.BeamsOption();
        var noGrounding = AgentCommands.NoGroundingOption();
        var noSplit = AgentCommands.NoSplitOption();
        var json = CommonOptions.Json();
        var cmd = new Command("demo", "Run the home-agent demo: MQTT broker, simulated home, a scripted day with an injection attempt and a confirmed unlock.")
        {
            minutes, model, rules, memory, threads, beams, noGrounding, noSplit, json,
        };
        cmd.SetAction(r => CliRunner.Run(() =>
        {
            if (r.GetValue(minutes) is var m && (m < 0 || m > 24 * 60 || double.IsNaN(m)))
            {
                throw new UserErrorException("--minutes must be between 0 and 1440");
            }
            bool asJson = r.GetValue(json);
            var understanding = AgentCommands.OpenUnderstanding(r.GetValue(model), r.GetValue(rules), r.GetValue(threads), r.GetValue(beams), r.GetValue(noGrounding), r.GetValue(noSplit));
            try
            {
                var log = new MemoryLog(line => Console.Error.WriteLine(line));
                string db = r.GetValue(memory) ?? Path.Combine(Path.GetTempPath(), "edgeagent-demo.db");
                var summary = DemoRunner.RunAsync(understanding, m, db, log, CancellationToken.None).GetAwaiter().GetResult();
                var writer = asJson ? Console.Error : Console.Out;
                writer.WriteLine();
                writer.WriteLine($"Summary ({summary.Understanding}):");
                int calls = summary.Turns.Sum(t => t.Calls.Count);
                int blocked = summary.Turns.Sum(t => t.Blocked.Count());
                writer.WriteLine($"  {summary.Turns.Count} commands, {calls} tool calls, {blocked} blocked by the policy, {summary.Notifications.Count} notifications");
                foreach (var d in summary.FinalStates)
                {
                    writer.WriteLine($"  {d.EntityId,-34} {DeviceCommands.Describe(d)}");
                }
                writer.WriteLine(summary.ExpectedStatesReached ? "  expected device states: all reached" : "  expected device states NOT reached: " + string.Join("; ", summary.Mismatches));
                writer.WriteLine($"  memory: {summary.MemoryPath}");
                if (asJson)
                {
                    CliRunner.WriteJson(new JsonObject
                    {
                        ["understanding"] = summary.Understanding,
                        ["turns"] = new JsonArray(summary.Turns.Select(t =>
                        {
                            var o = AgentCommands.TurnJson(t);
                            o["request"] = t.Request;
                            return (JsonNode)o;
                        }).ToArray()),
                        ["states"] = new JsonObject(summary.FinalStates.Select(d => KeyValuePair.Create(d.EntityId, (JsonNode?)d.State))),
                        ["notifications"] = new JsonArray(summary.Notifications.Select(n => (JsonNode)n).ToArray()),
                        ["expected_states_reached"] = summary.ExpectedStatesReached,
                        ["mismatches"] = new JsonArray(summary.Mismatches.Select(n => (JsonNode)n).ToArray()),
                    });
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
}
