using System.CommandLine;
using EdgeAgent.Compression.Evaluation;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgeagent eval</c>: perplexity, KL and top-1 agreement against a reference, size and decode speed.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var file = new Option<string>("--file", "-f") { Description = "UTF-8 text file to score.", Required = true };
        var reference = new Option<string?>("--reference") { Description = "Reference model (e.g. the float original) for KL divergence and top-1 agreement." };
        var ctx = new Option<int>("--ctx") { Description = "Window size including the BOS token.", DefaultValueFactory = _ => 256 };
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var cmd = new Command("eval", "Evaluate a (compressed) model: perplexity with the perplexity command's windows; against --reference, KL divergence (nats/token) and top-1 agreement on the same windows; bits per weight, bytes and greedy decode tok/s.")
        {
            model, file, reference, ctx, threads, json,
        };
        cmd.SetAction(r => CliRunner.Run(() =>
        {
            string text = CommonOptions.ReadText(r.GetValue(file)!);
            if (r.GetValue(ctx) < 2)
            {
                throw new UserErrorException("--ctx must be at least 2");
            }
            var progress = new ProgressBar("eval");
            var e = ModelEvaluator.Evaluate(r.GetValue(model)!, text, r.GetValue(reference),
                new EvalOptions { Context = r.GetValue(ctx), Threads = r.GetValue(threads) }, progress.Report);
            progress.Done();
            if (r.GetValue(json))
            {
                CliRunner.WriteJson(new
                {
                    perplexity = e.Perplexity,
                    kl_divergence = e.KlDivergence,
                    top1_agreement = e.Top1Agreement,
                    bits_per_weight = e.BitsPerWeight,
                    bytes = e.Bytes,
                    decode_tokens_per_s = e.DecodeTokensPerSecond,
                });
            }
            else
            {
                Console.Out.WriteLine($"perplexity {e.Perplexity:F4} over {e.Tokens} tokens");
                if (e.KlDivergence is { } kl)
                {
                    Console.Out.WriteLine($"KL vs reference {kl:G4} nats/token, top-1 agreement {e.Top1Agreement:P2}");
                }
                Console.Out.WriteLine($"{e.BitsPerWeight:F3} bits per weight, {e.Bytes:N0} bytes, decode {e.DecodeTokensPerSecond:F1} tok/s");
            }
            return 0;
        }));
        return cmd;
    }
}
