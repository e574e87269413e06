using System.Diagnostics;
using System.Text.Json;
using EdgeAgent.Inference.Generation;
using EdgeAgent.Inference.Sampling;
using LLama.Native;

namespace EdgeAgent.Benchmarks;

/// <summary>Result of one engine on one model file.</summary>
internal sealed record RunResult(string Engine, double PrefillTokensPerS, double DecodeTokensPerS, long PeakRssBytes, long KvBytes);

/// <summary>
/// Runs one engine on one file in its own process (so peak RSS is that engine's alone): a warm-up run, then
/// <c>reps</c> measured runs of one prefill of the prompt and <c>gen</c> greedy decode steps; the best run counts.
/// </summary>
internal static class EngineRun
{
    public static int Run(string[] args)
    {
        string engine = args[0], path = args[1];
        int threads = int.Parse(args[2]), prompt = int.Parse(args[3]), gen = int.Parse(args[4]), reps = int.Parse(args[5]);
        var ids = Prompt(prompt, vocab: int.Parse(args[6]));
        var (prefill, decode, kv) = engine == "ours" ? Ours(path, threads, ids, gen, reps) : LlamaCpp(path, threads, ids, gen, reps);
        var result = new RunResult(engine, prompt / prefill, gen / decode, PeakRss(), kv);
        Console.Out.WriteLine(JsonSerializer.Serialize(result));
        return 0;
    }

    public static int[] Prompt(int n, int vocab)
    {
        var rng = new Pcg32(1234);
        var ids = new int[n];
        for (int i = 0; i < n; i++)
        {
            ids[i] = (int)(rng.NextUInt32() % (uint)vocab);
        }
        return ids;
    }

    /// <summary>VmHWM: the process's peak resident set.</summary>
    private static long PeakRss()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..].Trim().Split(' ')[0]) * 1024;
            }
        }
        return Process.GetCurrentProcess().PeakWorkingSet64;
    }

    private static (double, double, long) Ours(string path, int threads, int[] prompt, int gen, int reps)
    {
        using var s = InferenceSession.Open(path, threads, prompt.Length + gen);
        double bestP = double.MaxValue, bestD = double.MaxValue;
        Span<int> one = stackalloc int[1];
        for (int r = 0; r <= reps; r++)
        {
            var sw = Stopwatch.StartNew();
            s.Evaluate(prompt);
            double p = sw.Elapsed.TotalSeconds;
            sw.Restart();
            for (int i = 0; i < gen; i++)
            {
                one[0] = SamplerChain.ArgMax(s.Logits);
                s.Append(one);
            }
            double d = sw.Elapsed.TotalSeconds;
            if (r > 0)
            {
                bestP = Math.Min(bestP, p);
                bestD = Math.Min(bestD, d);
            }
        }
        return (bestP, bestD, s.Cache.Bytes);
    }

    /// <summary>llama.cpp with its defaults (weight repacking, default KV type and flash-attention choice).</summary>
    private static (double, double, long) LlamaCpp(string path, int threads, int[] prompt, int gen, int reps)
    {
        NativeApi.llama_empty_call();
        NativeLogConfig.llama_log_set((_, _) => { });
        var mp = LLama.Native.LLamaModelParams.Default();
        using var model = SafeLlamaModelHandle.LoadFromFile(path, mp);
        var cp = LLamaContextParams.Default();
        cp.n_ctx = (uint)(prompt.Length + gen);
        cp.n_batch = (uint)prompt.Length;
        cp.n_ubatch = (uint)prompt.Length;
        cp.n_threads = threads;
        cp.n_threads_batch = threads;
        using var ctx = SafeLLamaContextHandle.Create(model, cp);
        int vocab = model.Vocab.Count;
        double bestP = double.MaxValue, bestD = double.MaxValue;
        for (int r = 0; r <= reps; r++)
        {
            ctx.MemoryClear();
            var batch = new LLamaBatch();
            for (int i = 0; i < prompt.Length; i++)
            {
                batch.Add(prompt[i], i, LLamaSeqId.Zero, logits: i == prompt.Length - 1);
            }
            var sw = Stopwatch.StartNew();
            Check(ctx.Decode(batch));
            double p = sw.Elapsed.TotalSeconds;
            int token = SamplerChain.ArgMax(ctx.GetLogitsIth(prompt.Length - 1)[..vocab]);
            sw.Restart();
            for (int i = 0; i < gen; i++)
            {
                batch.Clear();
                batch.Add(token, prompt.Length + i, LLamaSeqId.Zero, logits: true);
                Check(ctx.Decode(batch));
                token = SamplerChain.ArgMax(ctx.GetLogitsIth(0)[..vocab]);
            }
            double d = sw.Elapsed.TotalSeconds;
            if (r > 0)
            {
                bestP = Math.Min(bestP, p);
                bestD = Math.Min(bestD, d);
            }
        }
        return (bestP, bestD, 0);
    }

    private static void Check(DecodeResult r)
    {
        if (r != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama.cpp decode failed: {r}");
        }
    }
}
