using System.Diagnostics;

namespace EdgeAgent.Cli.Commands;

/// <summary>A one-line progress bar on stderr (redrawn at most ~10 times a second; plain lines when redirected).</summary>
internal sealed class ProgressBar(string label)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastDraw = -1000;
    private readonly bool _interactive = !Console.IsErrorRedirected;

    public void Report(int done, int total) => Report(done, total, null);

    /// <summary>Redraws with <paramref name="status"/> (e.g. loss and speed) after the bar.</summary>
    public void Report(int done, int total, string? status)
    {
        long now = _clock.ElapsedMilliseconds;
        bool last = done >= total;
        if (!last && now - _lastDraw < (_interactive ? 100 : 5000))
        {
            return;
        }
        _lastDraw = now;
        double fraction = total == 0 ? 1 : (double)done / total;
        double eta = fraction > 0 ? now / 1000.0 * (1 - fraction) / fraction : 0;
        const int Width = 30;
        int filled = (int)(fraction * Width);
        string line = $"{label} [{new string('#', filled)}{new string('.', Width - filled)}] {done}/{total} {fraction,6:P1} {now / 1000.0:F0}s elapsed, ~{eta:F0}s left{(status is null ? "" : "  " + status)}";
        if (_interactive)
        {
            Console.Error.Write("\r" + line);
        }
        else
        {
            Console.Error.WriteLine(line);
        }
    }

    public void Done()
    {
        if (_interactive)
        {
            Console.Error.WriteLine();
        }
    }
}
