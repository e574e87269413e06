using System.CommandLine;
using EdgeAgent.Inference.Evaluation;
using EdgeAgent.Inference.Generation;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgeagent perplexity</c>: perplexity of a text file with non-overlapping windows.</summary>
internal static class PerplexityCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var file = new Option<string>("--file", "-f") { Description = "UTF-8 text file to score.", Required = true };
        var ctx = new Option<int>("--ctx") { Description = "Window size including the BOS token.", DefaultValueFactory = _ => 256 };
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var cmd = new Command("perplexity", "Perplexity over a text file: the tokens (no BOS) are cut into non-overlapping windows of ctx-1 tokens, each fed as BOS + window with a cleared cache; every window token is scored.")
        {
            model, file, ctx, threads, json,
        };
        cmd.SetAction(r => CliRunner.Run(() =>
        {
            string text = CommonOptions.ReadText(r.GetValue(file)!);
            int c = r.GetValue(ctx);
            if (c < 2)
            {
                throw new UserErrorException("--ctx must be at least 2");
            }
            using var session = InferenceSession.Open(r.GetValue(model)!, r.GetValue(threads), c);
            var tokenizer = session.Model.Tokenizer;
            if (tokenizer.BosId < 0)
            {
                throw new UserErrorException("the model's vocabulary has no BOS token, which this perplexity convention needs");
            }
            var tokens = tokenizer.Encode(text, addSpecial: false, parseSpecial: false);
            var progress = new ProgressBar("perplexity");
            var result = Perplexity.Evaluate(session, tokens, c, tokenizer.BosId, progress.Report);
            progress.Done();
            if (r.GetValue(json))
            {
                CliRunner.WriteJson(new { tokens = result.Tokens, perplexity = result.Perplexity });
            }
            else
            {
                Console.Out.WriteLine($"perplexity {result.Perplexity:F4} over {result.Tokens} tokens ({result.Windows} windows of {c - 1})");
            }
            return 0;
        }));
        return cmd;
    }
}
