using System.CommandLine;
using EdgeAgent.Inference.Generation;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgeagent logits</c>: the logits at the last prompt position, as one JSON array.</summary>
internal static class LogitsCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var ids = CommonOptions.PromptIds();
        ids.Required = true;
        var threads = CommonOptions.Threads();
        var cmd = new Command("logits", "Print the logits (float32, whole vocabulary) at the last prompt position as one JSON array.")
        {
            model, ids, threads,
        };
        cmd.SetAction(r => CliRunner.Run(() =>
        {
            var tokens = CommonOptions.ParseIds(r.GetValue(ids)!);
            using var session = InferenceSession.Open(r.GetValue(model)!, r.GetValue(threads), tokens.Length);
            var logits = session.Evaluate(tokens);
            // Round-trip float formatting ("R") so a reader recovers the exact float32 values.
            var text = string.Join(",", logits.Select(v => float.IsFinite(v) ? v.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "null"));
            Console.Out.WriteLine($"[{text}]");
            return 0;
        }));
        return cmd;
    }
}
