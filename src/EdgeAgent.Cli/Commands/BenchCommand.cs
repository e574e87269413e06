using System.CommandLine;
using System.Diagnostics;
using EdgeAgent.Inference.Generation;
using EdgeAgent.Inference.Sampling;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgeagent bench</c>: prefill and greedy-decode throughput on seeded random prompt ids.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var threads = CommonOptions.Threads();
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Prompt length (random ids, seeded).", DefaultValueFactory = _ => 128, Validators = { r => CommonOptions.Positive(r, "--prompt-tokens") } };
        var genTokens = new Option<int>("--gen-tokens") { Description = "Tokens to decode greedily after the prefill.", DefaultValueFactory = _ => 64, Validators = { r => CommonOptions.Positive(r, "--gen-tokens") } };
        var json = CommonOptions.Json();
        var cmd = new Command("bench", "Measure prefill and decode speed: one prefill of a random prompt, then greedy decode; a warm-up run first, not counted.")
        {
            model, threads, promptTokens, genTokens, json,
        };
        cmd.SetAction(r => CliRunner.Run(() =>
        {
            string path = r.GetValue(model)!;
            int p = r.GetValue(promptTokens), g = r.GetValue(genTokens), n = r.GetValue(threads);
            using var session = InferenceSession.Open(path, n, p + g);
            if (p + g > session.ContextLength)
            {
                throw new UserErrorException($"--prompt-tokens + --gen-tokens = {p + g} exceeds the model's context of {session.ContextLength}");
            }
            var rng = new Pcg32(1234);
            var prompt = new int[p];
            int vocab = session.Model.Config.VocabSize;
            for (int i = 0; i < p; i++)
            {
                prompt[i] = (int)(rng.NextUInt32() % (uint)vocab);
            }
            Console.Error.WriteLine($"bench: {path}, {n} threads, {p} prompt tokens, {g} generated tokens (warm-up run first)");
            Run(session, prompt, g); // warm-up: JIT, page-in of the mapped weights
            var (prefill, decode) = Run(session, prompt, g);
            var result = new
            {
                prefill_tokens_per_s = p / prefill,
                decode_tokens_per_s = g / decode,
                threads = n,
                model_bytes = session.Model.File.FileSize,
            };
            if (r.GetValue(json))
            {
                CliRunner.WriteJson(result);
            }
            else
            {
                Console.Out.WriteLine($"prefill {result.prefill_tokens_per_s,10:F2} tok/s   ({p} tokens)");
                Console.Out.WriteLine($"decode  {result.decode_tokens_per_s,10:F2} tok/s   ({g} tokens)");
                Console.Out.WriteLine($"threads {n}, model {result.model_bytes:N0} bytes");
            }
            return 0;
        }));
        return cmd;
    }

    private static (double PrefillSeconds, double DecodeSeconds) Run(InferenceSession s, int[] prompt, int gen)
    {
        var sw = Stopwatch.StartNew();
        s.Evaluate(prompt);
        double prefill = sw.Elapsed.TotalSeconds;
        sw.Restart();
        Span<int> one = stackalloc int[1];
        for (int i = 0; i < gen; i++)
        {
            one[0] = SamplerChain.ArgMax(s.Logits);
            s.Append(one);
        }
        return (prefill, sw.Elapsed.TotalSeconds);
    }
}
