using EdgeAgent.Agents.Devices;

namespace EdgeAgent.Agents.Understanding;

/// <summary>
/// Splits a compound request ("close the carport gate; chandelier: off and after that boiler: 23 °C") into clauses
/// that each name a device of the home, so each can be understood on its own. A piece between two connectors that
/// names no device (neither a device's full name nor its last word, "blinds" of "living room blinds") is not a clause
/// of its own: it stays with the piece before it ("I don't need the den lights anymore, turn it off"), or the one
/// after it when it comes first, so a message to send or a remark is never cut off from its command. A comma only
/// separates a list of devices: a piece that is only a device's name ("turn off the kitchen light, the coffee maker
/// and the lamp") borrows the words before the device in the clause before it ("turn off the coffee maker"). No cut
/// falls inside a device's name. A request with fewer than two clauses comes back whole. Lexical, like
/// <see cref="GroundingPrior"/>: names are matched as whole words, lower-case.
/// </summary>
public static class ClauseSplitter
{
    /// <summary>Where one command ends and the next begins, longest first (matched lower-case); the last one, a bare
    /// comma, only before a piece that is a device's name.</summary>
    private static readonly string[] Connectors =
    [
        ", and after that ", " and after that ", ", after that ", ", and then ", " and then ", ", and also ",
        " and also ", ", then ", " then ", ", also ", ". also ", " plus ", ", and ", " and ", "; ", ". ", "! ", ", ",
    ];

    /// <summary>Words that may stand before a device's name in a piece that is only that name.</summary>
    private static readonly HashSet<string> Determiners = new(StringComparer.Ordinal) { "the", "my", "our", "a", "an", "also" };

    /// <summary>Words that may follow it.</summary>
    private static readonly HashSet<string> Trailers = new(StringComparer.Ordinal) { "too", "as", "well", "please" };

    /// <summary>The clauses of <paramref name="request"/>, or the request alone.</summary>
    public static IReadOnlyList<string> Split(string request, IReadOnlyList<Device> devices)
    {
        string lower = request.ToLowerInvariant(); // char for char, so indices agree with request
        var names = devices.Select(d => Words(d.Name.ToLowerInvariant()).ToArray()).Where(n => n.Length > 0)
            .OrderByDescending(n => n.Length).ToList();
        var heads = names.Select(n => n[^1]).ToHashSet(StringComparer.Ordinal);
        var spans = WordSpans(lower).ToArray();
        var inside = new bool[lower.Length]; // characters inside a device's name said in full
        foreach (var (first, end) in Mentions(spans.Select(w => lower[w.Start..w.End]).ToArray(), names))
        {
            Array.Fill(inside, true, spans[first].Start, spans[end - 1].End - spans[first].Start);
        }

        // Pieces between connectors (and whether a bare comma came before each).
        var pieces = new List<(int Start, int End, bool Comma)>();
        int start = 0;
        bool comma = false;
        for (int i = 0; i < lower.Length; i++)
        {
            if (inside[i])
            {
                continue;
            }
            foreach (var c in Connectors)
            {
                if (string.CompareOrdinal(lower, i, c, 0, c.Length) == 0)
                {
                    pieces.Add((start, i, comma));
                    comma = c == ", ";
                    start = i + c.Length;
                    i = start - 1;
                    break;
                }
            }
        }
        pieces.Add((start, lower.Length, comma));

        // A piece that names no device joins the piece before it (or after it, when it is the first); so does one
        // after a bare comma that is more than a device's name.
        var clauses = new List<(int Start, int End)>();
        bool pending = false;
        foreach (var (s, e, afterComma) in pieces)
        {
            var words = Words(lower[s..e]).ToArray();
            bool names1 = Mentions(words, names).Any() || words.Any(w => Head(w, heads));
            bool join = clauses.Count > 0 && (pending || !names1 || afterComma && Bare(words, names) is null);
            if (join)
            {
                clauses[^1] = (clauses[^1].Start, e);
                pending = pending && !names1;
            }
            else
            {
                clauses.Add((s, e));
                pending = !names1;
            }
        }
        if (clauses.Count < 2)
        {
            return [request];
        }

        // A clause that is only a device's name takes the words before the device in the clause before it.
        var texts = new List<string>();
        string? lead = null;
        foreach (var (s, e) in clauses)
        {
            string text = request[s..e].Trim();
            var words = Words(text.ToLowerInvariant()).ToArray();
            if (lead is not null && Bare(words, names) is { } bare)
            {
                text = lead + string.Join(' ', Words(text).ToArray()[bare..]);
            }
            else if (Mentions(words, names).FirstOrDefault() is { End: > 0 } m)
            {
                lead = Prefix(text, m.Start);
            }
            texts.Add(text);
        }
        return texts;
    }

    /// <summary>For a piece that is only a device's name (with determiners before and trailers after), the index of
    /// the name's first word; otherwise null.</summary>
    private static int? Bare(string[] words, List<string[]> names)
    {
        var all = Mentions(words, names).ToList();
        return all.Count == 1 && words[..all[0].Start].All(Determiners.Contains) && words[all[0].End..].All(Trailers.Contains)
            ? all[0].Start
            : null;
    }

    private static bool Head(string word, HashSet<string> heads) =>
        heads.Contains(word) || word.EndsWith('s') && heads.Contains(word[..^1]) || heads.Contains(word + "s");

    /// <summary>Devices named in full in <paramref name="said"/>: word ranges, in order, longest names first where
    /// they overlap, each word used once.</summary>
    private static IEnumerable<(int Start, int End)> Mentions(string[] said, List<string[]> names)
    {
        var used = new bool[said.Length];
        var found = new List<(int Start, int End)>();
        foreach (var name in names)
        {
            for (int at = 0; at + name.Length <= said.Length; at++)
            {
                if (!used.AsSpan(at, name.Length).Contains(true) && said.AsSpan(at, name.Length).SequenceEqual(name))
                {
                    found.Add((at, at + name.Length));
                    used.AsSpan(at, name.Length).Fill(true);
                }
            }
        }
        return found.OrderBy(m => m.Start);
    }

    /// <summary>The text before word <paramref name="word"/>, with its trailing space.</summary>
    private static string Prefix(string text, int word)
    {
        int k = 0;
        foreach (var (s, _) in WordSpans(text))
        {
            if (k++ == word)
            {
                return text[..s];
            }
        }
        return text;
    }

    private static IEnumerable<string> Words(string text) => GroundingPrior.Words(text);

    private static IEnumerable<(int Start, int End)> WordSpans(string text) => GroundingPrior.WordSpans(text);
}
