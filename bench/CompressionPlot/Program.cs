// Usage: dotnet run --project bench/CompressionPlot -c Release -- OUTDIR PLOT.png
// Reads OUTDIR/*.eval.json (f32.eval.json is the baseline), prints the Markdown table and plots bits/weight against
// the perplexity increase (%), llama.cpp's rows in their own colour.
using System.Globalization;
using System.Text.Json;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: CompressionPlot OUTDIR PLOT.png");
    return 1;
}
var rows = Directory.GetFiles(args[0], "*.eval.json")
    .Select(f => (Name: Path.GetFileName(f)[..^".eval.json".Length], Json: JsonDocument.Parse(File.ReadAllText(f)).RootElement))
    .Select(r => (r.Name, Bpw: r.Json.GetProperty("bits_per_weight").GetDouble(), Ppl: r.Json.GetProperty("perplexity").GetDouble(),
        Bytes: r.Json.GetProperty("bytes").GetInt64(), Decode: r.Json.GetProperty("decode_tokens_per_s").GetDouble()))
    .OrderBy(r => r.Bpw).ThenBy(r => r.Ppl).ToList();
double baseline = rows.Single(r => r.Name == "f32").Ppl;
var c = CultureInfo.InvariantCulture;
Console.WriteLine("| model | bits/weight | perplexity | Δ perplexity | bytes | decode tok/s |");
Console.WriteLine("|---|---|---|---|---|---|");
foreach (var r in rows)
{
    Console.WriteLine(string.Create(c, $"| {r.Name} | {r.Bpw:F2} | {r.Ppl:F2} | {(r.Ppl / baseline) - 1:+0.00%;-0.00%} | {r.Bytes:N0} | {r.Decode:F1} |"));
}
var plot = new ScottPlot.Plot();
// Float-stored rows (pruned F32 files) are in the table only: at 32 bits/weight they would squash the plot.
var plotted = rows.Where(r => r.Bpw < 16).ToList();
int k = 0;
foreach (var group in plotted.GroupBy(r => r.Name.StartsWith("llamacpp", StringComparison.Ordinal)))
{
    var pts = group.ToList();
    var s = plot.Add.Scatter(pts.Select(r => r.Bpw).ToArray(), pts.Select(r => 100 * ((r.Ppl / baseline) - 1)).ToArray());
    s.LineWidth = 0;
    s.MarkerSize = 8;
    s.LegendText = group.Key ? "llama.cpp quantizer" : "EdgeAgent";
    foreach (var r in pts)
    {
        var t = plot.Add.Text(r.Name, r.Bpw, 100 * ((r.Ppl / baseline) - 1));
        t.LabelFontSize = 11;
        t.LabelOffsetX = 6;
        t.LabelOffsetY = -14 + (18 * (k++ % 2));   // alternate above/below: neighbouring points are close
    }
}
double top = plotted.Max(r => 100 * ((r.Ppl / baseline) - 1));
plot.Axes.SetLimits(plotted.Min(r => r.Bpw) - 0.2, plotted.Max(r => r.Bpw) + 1.2, -0.1 * top, 1.15 * top);
plot.Title(string.Create(c, $"bits/weight vs perplexity increase (F32 perplexity {baseline:F2})"));
plot.XLabel("bits per weight (all tensors)");
plot.YLabel("perplexity increase (%)");
plot.ShowLegend();
plot.SavePng(args[1], 1100, 700);
return 0;
