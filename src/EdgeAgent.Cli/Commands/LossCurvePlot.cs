namespace EdgeAgent.Cli.Commands;

/// <summary>The loss curve of a training run as a PNG (ScottPlot).</summary>
internal static class LossCurvePlot
{
    public static void Write(string path, IReadOnlyList<(int Step, double Loss)> train, IReadOnlyList<(int Step, double Loss)> valid, string title)
    {
        var plot = new ScottPlot.Plot();
        // Train loss per step is one batch each: draw a running mean over ~1% of the run.
        int window = Math.Max(1, train.Count / 100);
        var xs = new double[train.Count];
        var ys = new double[train.Count];
        double sum = 0;
        for (int i = 0; i < train.Count; i++)
        {
            sum += train[i].Loss;
            if (i >= window)
            {
                sum -= train[i - window].Loss;
            }
            xs[i] = train[i].Step;
            ys[i] = sum / Math.Min(i + 1, window);
        }
        var t = plot.Add.Scatter(xs, ys);
        t.LegendText = "train (running mean)";
        t.MarkerSize = 0;
        if (valid.Count > 0)
        {
            var v = plot.Add.Scatter(valid.Select(p => (double)p.Step).ToArray(), valid.Select(p => p.Loss).ToArray());
            v.LegendText = "held-out";
            v.MarkerSize = 5;
        }
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel("cross-entropy (nats/token)");
        plot.ShowLegend();
        plot.SavePng(path, 900, 540);
    }
}
