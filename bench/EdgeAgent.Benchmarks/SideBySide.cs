using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using System.Text;
using System.Text.Json;
using EdgeAgent.Inference.Gguf;

namespace EdgeAgent.Benchmarks;

/// <summary>
/// Our engine and llama.cpp on the same GGUF files with the same thread count, back to back per model, each in its
/// own child process. Prints a Markdown table (prefill / decode tok/s, ratios, the memory-bandwidth bound of decode,
/// peak RSS) and writes it with a PNG chart of the ratios.
/// </summary>
internal static class SideBySide
{
    public static int Run(string[] args)
    {
        int threads = 2, prompt = 128, gen = 64, reps = 2, rounds = 2;
        string dir = Path.Combine(Path.GetTempPath(), "edgeagent-bench"), outDir = "bench-results";
        bool keep = false;
        string[]? only = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--prompt": prompt = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--gen": gen = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--reps": reps = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--models": only = args[++i].Split(','); break;
                case "--dir": dir = args[++i]; break;
                case "--out": outDir = args[++i]; break;
                case "--keep": keep = true; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        var models = BenchModel.All.Where(m => only is null || only.Any(o => m.Name.Contains(o, StringComparison.OrdinalIgnoreCase))).ToArray();
        double bandwidth = ReadBandwidth(threads);
        Console.Error.WriteLine($"read bandwidth ({threads} threads): {bandwidth / 1e9:F1} GB/s");
        double roundTripStart = CoreRoundTripNs();
        Console.Error.WriteLine($"core-to-core round trip: {roundTripStart:F0} ns");
        var rows = new List<string>();
        var chart = new List<(string Model, double Prefill, double Decode)>();
        try
        {
            foreach (var m in models)
            {
                string path = m.Materialize(dir);
                long fileBytes = new FileInfo(path).Length;
                long perToken = DecodeBytesPerToken(path, m, prompt + (gen / 2));
                // Rounds alternate the engines so a burst of load on the shared machine hits both; best of each counts.
                RunResult? ours = null, llama = null;
                for (int round = 0; round < Math.Max(1, rounds); round++)
                {
                    ours = Best(ours, Child("ours", path, threads, prompt, gen, reps, m.Shape.VocabSize));
                    llama = Best(llama, Child("llama.cpp", path, threads, prompt, gen, reps, m.Shape.VocabSize));
                }
                ArgumentNullException.ThrowIfNull(ours);
                ArgumentNullException.ThrowIfNull(llama);
                double bound = bandwidth / perToken;
                long rssLimit = fileBytes + ours.KvBytes + (64L << 20);
                rows.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {m.Name} | {fileBytes / 1e6:F0} | {ours.PrefillTokensPerS:F1} | {llama.PrefillTokensPerS:F1} | **{ours.PrefillTokensPerS / llama.PrefillTokensPerS:F2}×** | {ours.DecodeTokensPerS:F1} | {llama.DecodeTokensPerS:F1} | **{ours.DecodeTokensPerS / llama.DecodeTokensPerS:F2}×** | {bound:F1} ({ours.DecodeTokensPerS / bound:P0}) | {ours.PeakRssBytes / 1e6:F0} / {rssLimit / 1e6:F0} | {llama.PeakRssBytes / 1e6:F0} |"));
                chart.Add((m.Name, ours.PrefillTokensPerS / llama.PrefillTokensPerS, ours.DecodeTokensPerS / llama.DecodeTokensPerS));
                Console.Error.WriteLine(rows[^1]);
            }
        }
        finally
        {
            if (!keep)
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        double roundTripEnd = CoreRoundTripNs();
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"{threads} threads, {prompt}-token prompt, {gen} generated tokens, best of {rounds} alternating rounds × {reps} runs after a warm-up; read bandwidth {bandwidth / 1e9:F1} GB/s; core-to-core round trip {roundTripStart:F0} ns before, {roundTripEnd:F0} ns after ({Environment.ProcessorCount} CPUs, {RuntimeDescription()}).");
        md.AppendLine();
        md.AppendLine("| model | file MB | prefill ours | prefill llama.cpp | ratio | decode ours | decode llama.cpp | ratio | decode bound tok/s (ours % of it) | peak RSS ours / limit MB | peak RSS llama.cpp MB |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        rows.ForEach(r => md.AppendLine(r));
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "side-by-side.md"), md.ToString());
        Chart.Write(Path.Combine(outDir, "side-by-side.png"), chart, threads);
        Console.Out.Write(md.ToString());
        return 0;
    }

    private static RunResult Best(RunResult? a, RunResult b) => a is null ? b : a with
    {
        PrefillTokensPerS = Math.Max(a.PrefillTokensPerS, b.PrefillTokensPerS),
        DecodeTokensPerS = Math.Max(a.DecodeTokensPerS, b.DecodeTokensPerS),
        PeakRssBytes = Math.Max(a.PeakRssBytes, b.PeakRssBytes),
    };

    private static string RuntimeDescription() =>
        $"{System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, Vector512 {(Vector512.IsHardwareAccelerated ? "on" : "off")}";

    private static RunResult Child(string engine, string path, int threads, int prompt, int gen, int reps, int vocab)
    {
        string self = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            psi.ArgumentList.Add(typeof(SideBySide).Assembly.Location);
        }
        foreach (var a in new[] { "run-one", engine, path, $"{threads}", $"{prompt}", $"{gen}", $"{reps}", $"{vocab}" })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{engine} on {path} failed ({p.ExitCode})");
        }
        string line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.StartsWith('{'));
        return JsonSerializer.Deserialize<RunResult>(line)!;
    }

    /// <summary>Bytes a decode step must read: every matrix but the embedding (one row of it), plus the F32 KV cache
    /// up to <paramref name="position"/>.</summary>
    private static long DecodeBytesPerToken(string path, BenchModel m, int position)
    {
        using var f = GgufFile.Open(path);
        long bytes = 0;
        foreach (var t in f.Tensors)
        {
            if (t.Dimensions.Length == 2 && (t.Name != "token_embd.weight" || m.Shape.TiedOutput))
            {
                bytes += t.ByteSize;
            }
        }
        long kvDim = m.Shape.KvHeads * m.Shape.HeadSize;
        return bytes + (2L * m.Shape.Layers * kvDim * position * sizeof(float));
    }

    /// <summary>
    /// Round trip of one cache line between two threads, in ns (median of 5 probes of 50,000 round trips). On this
    /// shared virtual machine it reads 80-100 ns, or 340-390 ns in minutes when the host places the two virtual cores
    /// far apart — then every exchange between compute threads costs four times as much (docs/performance.md → slow
    /// mode), so a table is only comparable with tables taken at the same round trip.
    /// </summary>
    private static double CoreRoundTripNs()
    {
        const int Rounds = 50_000;
        var probes = new double[5];
        for (int k = 0; k < probes.Length; k++)
        {
            var line = new long[16];
            var partner = new Thread(() =>
            {
                for (long i = 0; i <= Rounds; i++)
                {
                    while (Volatile.Read(ref line[8]) != (2 * i) - 1)
                    {
                    }
                    Volatile.Write(ref line[8], 2 * i);
                }
            }) { IsBackground = true };
            partner.Start();
            // Round 0 (untimed) waits for the partner to start.
            Volatile.Write(ref line[8], -1);
            while (Volatile.Read(ref line[8]) != 0)
            {
            }
            var sw = Stopwatch.StartNew();
            for (long i = 1; i <= Rounds; i++)
            {
                Volatile.Write(ref line[8], (2 * i) - 1);
                while (Volatile.Read(ref line[8]) != 2 * i)
                {
                }
            }
            probes[k] = sw.Elapsed.TotalMilliseconds * 1e6 / Rounds;
            partner.Join();
        }
        Array.Sort(probes);
        return probes[probes.Length / 2];
    }

    /// <summary>Streaming read bandwidth of <paramref name="threads"/> threads over 1 GiB (best of 5 passes).</summary>
    private static unsafe double ReadBandwidth(int threads)
    {
        const long Bytes = 1L << 30;
        var buffer = GC.AllocateUninitializedArray<float>((int)(Bytes / sizeof(float)), pinned: true);
        buffer.AsSpan().Fill(1f);
        double best = 0;
        fixed (float* p = buffer)
        {
            float* basePtr = p;
            for (int pass = 0; pass < 5; pass++)
            {
                var sw = Stopwatch.StartNew();
                long per = buffer.Length / threads;
                var sums = new float[threads];
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                {
                    float* s = basePtr + (t * per);
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    for (long i = 0; i + 64 <= per; i += 64)
                    {
                        a0 += Vector512.Load(s + i);
                        a1 += Vector512.Load(s + i + 16);
                        a2 += Vector512.Load(s + i + 32);
                        a3 += Vector512.Load(s + i + 48);
                    }
                    sums[t] = Vector512.Sum(a0 + a1 + a2 + a3);
                });
                best = Math.Max(best, Bytes / sw.Elapsed.TotalSeconds);
            }
        }
        return best;
    }
}
