using ScottPlot;

namespace EdgeAgent.Benchmarks;

/// <summary>Bar chart of our speed relative to llama.cpp (1.0 = parity) for prefill and decode per model.</summary>
internal static class Chart
{
    public static void Write(string path, IReadOnlyList<(string Model, double Prefill, double Decode)> rows, int threads)
    {
        var plot = new Plot();
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        for (int i = 0; i < rows.Count; i++)
        {
            double x = i * 3;
            bars.Add(new Bar { Position = x, Value = rows[i].Prefill, FillColor = Colors.SteelBlue, Label = $"{rows[i].Prefill:F2}" });
            bars.Add(new Bar { Position = x + 1, Value = rows[i].Decode, FillColor = Colors.DarkOrange, Label = $"{rows[i].Decode:F2}" });
            ticks.Add(new Tick(x + 0.5, rows[i].Model));
        }
        var series = plot.Add.Bars(bars);
        series.ValueLabelStyle.FontSize = 12;
        plot.Add.HorizontalLine(1.0, 1, Colors.Black, LinePattern.Dashed);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. ticks]);
        plot.Axes.Margins(bottom: 0);
        plot.Title($"EdgeAgent / llama.cpp ({threads} threads): prefill (blue), decode (orange)");
        plot.YLabel("speed ratio (1.0 = llama.cpp)");
        plot.SavePng(path, 900, 450);
    }
}
