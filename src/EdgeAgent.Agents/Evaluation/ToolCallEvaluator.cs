using System.Diagnostics;
using System.Text;
using EdgeAgent.Agents.Dataset;
using EdgeAgent.Agents.Devices;
using EdgeAgent.Agents.Tools;
using EdgeAgent.Agents.Understanding;
using EdgeAgent.Inference.Constraints;

namespace EdgeAgent.Agents.Evaluation;

/// <summary>Hits out of a count.</summary>
public sealed record Tally(int Count, int Exact)
{
    public double Accuracy => Count == 0 ? 0 : (double)Exact / Count;
}

/// <summary>The result of evaluating an understanding module on a dataset.</summary>
public sealed record EvalReport(
    string Understanding, int Examples, int Exact, int SchemaValid, int CallsProposed, int EntitiesOutsideHome,
    IReadOnlyDictionary<string, Tally> PerTool, IReadOnlyDictionary<string, Tally> PerType,
    double P50LatencyMs, double P95LatencyMs, IReadOnlyList<string> Failures)
{
    public double ExactAccuracy => Examples == 0 ? 0 : (double)Exact / Examples;
    public double SchemaValidRate => Examples == 0 ? 0 : (double)SchemaValid / Examples;

    /// <summary>A Markdown table for docs/agents.md.</summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"Understanding: {Understanding}; {Examples} examples; exact {ExactAccuracy:P1}; schema-valid {SchemaValidRate:P1}; entities outside the home {EntitiesOutsideHome}; latency p50 {P50LatencyMs:F1} ms, p95 {P95LatencyMs:F1} ms");
        sb.AppendLine().AppendLine("| tool | examples | exact |").AppendLine("|---|---:|---:|");
        foreach (var (k, t) in PerTool.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            sb.AppendLine($"| {k} | {t.Count} | {t.Accuracy:P1} |");
        }
        sb.AppendLine().AppendLine("| request type | examples | exact |").AppendLine("|---|---:|---:|");
        foreach (var (k, t) in PerType.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            sb.AppendLine($"| {k} | {t.Count} | {t.Accuracy:P1} |");
        }
        return sb.ToString();
    }
}

/// <summary>
/// Runs any <see cref="IUnderstanding"/> (a model under the grammar, or the rule-based fallback) on examples and
/// scores it: exact tool calls (names, arguments and order), schema validity of the answer against the grammar of
/// the example's home, and calls naming entities outside the home. Latency is command → proposal, with
/// the home prepared (<see cref="IUnderstanding.Prepare"/>).
/// </summary>
public static class ToolCallEvaluator
{
    /// <param name="maxFailures">How many misses and invalid answers <see cref="EvalReport.Failures"/> keeps (the first ones).</param>
    public static EvalReport Evaluate(IUnderstanding understanding, IEnumerable<DatasetExample> examples, Action<int>? progress = null, CancellationToken cancellation = default, int maxFailures = 20)
    {
        int n = 0, exact = 0, valid = 0, proposed = 0, outside = 0;
        var perTool = new Dictionary<string, (int Count, int Exact)>();
        var perType = new Dictionary<string, (int Count, int Exact)>();
        var latencies = new List<double>();
        var failures = new List<string>();
        foreach (var ex in examples)
        {
            cancellation.ThrowIfCancellationRequested();
            var input = new UnderstandingInput(ex.Home, [], ex.Request);
            // A running agent has its home's system prompt in the KV cache before a request arrives: latency is
            // measured from the request on, as in `agent ask` (docs/agents.md).
            understanding.Prepare(input);
            long start = Stopwatch.GetTimestamp();
            var p = understanding.Propose(input, cancellation);
            latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            n++;
            bool ok = p.Calls.Count == ex.Expected.Count && p.Calls.Zip(ex.Expected).All(z => z.First.SameAs(z.Second));
            exact += ok ? 1 : 0;
            // Schema validity: the model's own text (or, for non-model understanding, its calls as the grammar
            // would write them) must be a complete answer of this home's grammar.
            var grammar = new JsonRecognizer(ToolCatalog.AnswerGrammar(ex.Home), ToolCatalog.AnswerGrammarOptions);
            string answer = p.RawOutput ?? PromptBuilder.Answer(p.Calls, p.Reply);
            bool schemaValid = p.SchemaValid && grammar.Accepts(Encoding.UTF8.GetBytes(answer));
            valid += schemaValid ? 1 : 0;
            if (!schemaValid && failures.Count < maxFailures)
            {
                failures.Add($"[{ex.Type}] \"{ex.Request}\": not schema-valid ({p.GeneratedTokens} tokens): {answer}");
            }
            var ids = ex.Home.Select(d => d.EntityId).ToHashSet(StringComparer.Ordinal);
            proposed += p.Calls.Count;
            outside += p.Calls.Count(c => c.EntityId is { } id && !ids.Contains(id));
            foreach (var tool in ex.Expected.Count == 0 ? ["(no tool)"] : ex.Expected.Select(c => c.Name).Distinct())
            {
                var t = perTool.GetValueOrDefault(tool);
                perTool[tool] = (t.Count + 1, t.Exact + (ok ? 1 : 0));
            }
            var ty = perType.GetValueOrDefault(ex.Type);
            perType[ex.Type] = (ty.Count + 1, ty.Exact + (ok ? 1 : 0));
            if (!ok && failures.Count < maxFailures)
            {
                failures.Add($"[{ex.Type}] \"{ex.Request}\": expected {string.Join(" ", ex.Expected)}; got {string.Join(" ", p.Calls)}");
            }
            progress?.Invoke(n);
        }
        latencies.Sort();
        double Pct(double q) => latencies.Count == 0 ? 0 : latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
        return new EvalReport(understanding.Name, n, exact, valid, proposed, outside,
            perTool.ToDictionary(p => p.Key, p => new Tally(p.Value.Count, p.Value.Exact)),
            perType.ToDictionary(p => p.Key, p => new Tally(p.Value.Count, p.Value.Exact)),
            Pct(0.5), Pct(0.95), failures);
    }
}
