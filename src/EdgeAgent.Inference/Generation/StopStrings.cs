namespace EdgeAgent.Inference.Generation;

/// <summary>
/// Stop-string matching for streamed text: where the first stop string begins, and how much of the text's end
/// must be held back because it could still become a stop string.
/// </summary>
public sealed class StopStrings(IReadOnlyList<string> stops)
{
    private readonly string[] _stops = stops.Where(s => s.Length > 0).ToArray();

    public bool IsEmpty => _stops.Length == 0;

    /// <summary>Index of the earliest stop string in <paramref name="text"/> that ends at or after
    /// <paramref name="newFrom"/> (text before it was already checked), or -1.</summary>
    public int Find(string text, int newFrom)
    {
        int best = -1;
        foreach (var stop in _stops)
        {
            int i = text.IndexOf(stop, Math.Max(0, newFrom - stop.Length + 1), StringComparison.Ordinal);
            if (i >= 0 && (best < 0 || i < best))
            {
                best = i;
            }
        }
        return best;
    }

    /// <summary>Length of the longest suffix of <paramref name="text"/> that is a proper prefix of a stop string.</summary>
    public int HeldBack(string text)
    {
        int hold = 0;
        foreach (var stop in _stops)
        {
            for (int k = Math.Min(stop.Length - 1, text.Length); k > hold; k--)
            {
                if (text.AsSpan(text.Length - k).SequenceEqual(stop.AsSpan(0, k)))
                {
                    hold = k;
                    break;
                }
            }
        }
        return hold;
    }
}
