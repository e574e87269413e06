using System.Globalization;
using System.Text;
using EdgeAgent.Agents.Devices;
using EdgeAgent.Agents.Tools;
using EdgeAgent.Inference.Generation;

namespace EdgeAgent.Agents.Understanding;

/// <summary>Weights (nats) of the <see cref="GroundingPrior"/>'s terms; 0 switches a term off.</summary>
/// <param name="Entity">A call's entity whose name shares no word with the request costs this much (a full match
/// costs nothing; a partial one its share).</param>
/// <param name="Repeat">An entity already named by an earlier call of the answer.</param>
/// <param name="Number">A number argument that is none of the numbers in the request (only when it has some).</param>
/// <param name="Message">A notify message that is not a piece of the request's text.</param>
/// <param name="Tool">A tool whose own action word ("off" of <c>light.turn_off</c>) is not in the request while that of
/// another tool of its domain ("on") is; likewise a tool that takes no number while a sibling does, on a device the
/// request gives a number ("den downlights: 90%" for <c>light.turn_off</c>).</param>
/// <param name="Missed">Per device named in full in the request that no call acts on, charged when the list of
/// calls closes.</param>
public sealed record GroundingWeights(double Entity = 16, double Repeat = 4, double Number = 8, double Message = 30, double Missed = 12, double Tool = 8)
{
    /// <summary>The weights chosen on the development set (eval/agents/eval-set-unseen-verbs.jsonl, not the held-out
    /// set; docs/agents.md → Grounding).</summary>
    public static readonly GroundingWeights Default = new();
}

/// <summary>
/// Grounds a model's answer in the request it answers (an <see cref="IOutputPrior"/> for <see cref="BeamSearch"/>):
/// among the tool calls the model finds probable, those whose device name is in the request, whose numbers are the
/// request's numbers and whose message is copied from it score higher. Each call's term is the best that any
/// completion of it can reach (a partial tool name counts its best device, a partial entity id its best match), so the
/// potential only falls as the answer grows, as <see cref="IOutputPrior"/> requires. It is lexical, not a second
/// model: words are compared lower-case, with plurals ("lights" names "light"). The model still chooses, from its own
/// most probable tokens and, while a message is written, the tokens that copy the rest of the request
/// (<see cref="Continuations"/>); the prior only re-ranks them (docs/agents.md → Grounding).
/// </summary>
public sealed class GroundingPrior : IOutputPrior
{
    private readonly GroundingWeights _w;
    private readonly string _request;
    private readonly string _original;
    private readonly HashSet<string> _words;
    private readonly List<string> _numbers = [];
    private readonly Dictionary<string, double> _match = new(StringComparer.Ordinal);
    private readonly List<(string Tool, string[] Entities, double Cost, bool NumberCost)> _tools = [];
    private readonly HashSet<string> _numbered = new(StringComparer.Ordinal); // named devices a request number follows
    private readonly HashSet<string> _named = new(StringComparer.Ordinal);

    public GroundingPrior(IReadOnlyList<Device> devices, string request, GroundingWeights? weights = null)
    {
        _w = weights ?? GroundingWeights.Default;
        _original = request;
        _request = request.ToLowerInvariant(); // char for char, so indices agree with _original
        var words = _words = Words(_request).ToHashSet(StringComparer.Ordinal);
        foreach (var d in devices)
        {
            var name = Words(d.Name.ToLowerInvariant()).ToList();
            _match[d.EntityId] = name.Count == 0 ? 0 : (double)name.Count(w => Matches(w, words)) / name.Count;
        }
        // A tool whose own words ("off" in light.turn_off) are absent from the request while a sibling's ("on" in
        // light.turn_on) is there costs the Tool weight: the request names the other action.
        var available = ToolCatalog.Available(devices).ToList();
        foreach (var (tool, entities) in available)
        {
            var own = Distinctive(tool.Name, available.Select(a => a.Tool.Name));
            bool sibling = available.Any(a => a.Tool.Name != tool.Name && Domain(a.Tool.Name) == Domain(tool.Name)
                && Distinctive(a.Tool.Name, available.Select(b => b.Tool.Name)).Any(w => Matches(w, words)));
            bool cost = sibling && !own.Any(w => Matches(w, words));
            // A tool that takes no number while a sibling does (light.turn_off beside light.turn_on's brightness).
            bool numberCost = !TakesNumber(tool) && available.Any(a => Domain(a.Tool.Name) == Domain(tool.Name) && TakesNumber(a.Tool));
            _tools.Add((tool.Name, entities, cost ? _w.Tool : 0, numberCost));
        }
        // Numbers as the grammar writes them ("22.5", "45"): the request's own digits (and the word each starts).
        var numberAt = new List<int>();
        for (int i = 0; i < _request.Length; i++)
        {
            if (char.IsAsciiDigit(_request[i]) && (i == 0 || !char.IsAsciiDigit(_request[i - 1]) && _request[i - 1] != '.'))
            {
                int j = i;
                while (j < _request.Length && (char.IsAsciiDigit(_request[j]) || _request[j] == '.' && j + 1 < _request.Length && char.IsAsciiDigit(_request[j + 1])))
                {
                    j++;
                }
                _numbers.Add(_request[i..j]);
                numberAt.Add(WordIndex(_request, i));
                i = j;
            }
        }
        // Devices named in full (whole words, longest first, each stretch of the request used once).
        var said = Words(_request).ToArray();
        var used = new bool[said.Length];
        var mentions = new Dictionary<string, (int Start, int End)>(StringComparer.Ordinal);
        foreach (var d in devices.OrderByDescending(d => d.Name.Length))
        {
            var name = Words(d.Name.ToLowerInvariant()).ToArray();
            for (int at = 0; name.Length > 0 && at + name.Length <= said.Length; at++)
            {
                if (Enumerable.Range(at, name.Length).All(k => !used[k] && said[k] == name[k - at]))
                {
                    _named.Add(d.EntityId);
                    mentions[d.EntityId] = (at, at + name.Length);
                    Array.Fill(used, true, at, name.Length);
                    break;
                }
            }
        }
        // A number after a device's name and before the next named device is that device's ("den downlights: 90%").
        foreach (var (id, (_, end)) in mentions)
        {
            int next = mentions.Values.Select(m => m.Start).Where(a => a >= end).DefaultIfEmpty(said.Length).Min();
            if (numberAt.Any(n => n >= end && n < next))
            {
                _numbered.Add(id);
            }
        }
    }

    /// <summary>Devices named in full in the request.</summary>
    public IReadOnlyCollection<string> Named => _named;

    /// <summary>Share of the words of <paramref name="entityId"/>'s name found in the request (0-1).</summary>
    public double Match(string entityId) => _match.GetValueOrDefault(entityId);

    public double Potential(ReadOnlySpan<byte> output)
    {
        var answer = PartialAnswer.Read(output);
        double total = 0;
        var earlier = new HashSet<string>(StringComparer.Ordinal);
        foreach (var call in answer.Calls)
        {
            total += CallPotential(call, earlier);
            if (call.EntityComplete && call.Entity is { } e)
            {
                earlier.Add(e);
            }
        }
        if (answer.CallsClosed && _w.Missed > 0)
        {
            // Devices and numbers of the request that no call used (a number inside a message counts as used).
            total -= _w.Missed * _named.Count(n => !earlier.Contains(n));
            var left = new List<string>(_numbers);
            foreach (var call in answer.Calls)
            {
                foreach (var (_, value, _) in call.Numbers)
                {
                    int at = left.FindIndex(n => SameNumber(n, value));
                    if (at >= 0)
                    {
                        left.RemoveAt(at);
                    }
                }
                if (call.Message is { } m)
                {
                    left.RemoveAll(n => m.Contains(n, StringComparison.Ordinal));
                }
            }
            total -= _w.Missed * left.Count;
        }
        return total;
    }

    /// <summary>While a notify message is being written: the rest of the request after each place the message so far
    /// matches it (after each match of its last, partial word when the whole does not; from every word when it is
    /// empty or ends between words), so the model can copy a word it finds improbable.</summary>
    public IReadOnlyList<byte[]> Continuations(ReadOnlySpan<byte> output)
    {
        var answer = PartialAnswer.Read(output);
        if (answer.CallsClosed || answer.Calls.Count == 0 || answer.Calls[^1] is not { Message: { } m, MessageComplete: false })
        {
            return [];
        }
        if (Escape(m) is not { } written || !output.EndsWith(Encoding.UTF8.GetBytes(written)))
        {
            return []; // the output ends inside an escape or a character: nothing to align
        }
        string lower = m.ToLowerInvariant();
        var starts = new List<int>();
        void After(string piece, bool wordStart)
        {
            for (int at = _request.IndexOf(piece, StringComparison.Ordinal); at >= 0; at = _request.IndexOf(piece, at + 1, StringComparison.Ordinal))
            {
                if (!wordStart || at == 0 || !char.IsLetterOrDigit(_request[at - 1]))
                {
                    starts.Add(at + piece.Length);
                }
            }
        }
        if (lower.Length > 0)
        {
            After(lower, wordStart: false);
        }
        if (starts.Count == 0)
        {
            int cut = lower.Length;
            while (cut > 0 && char.IsLetterOrDigit(lower[cut - 1]))
            {
                cut--;
            }
            if (cut < lower.Length)
            {
                After(lower[cut..], wordStart: true);
            }
            else
            {
                for (int i = 0; i < _request.Length; i++)
                {
                    if (char.IsLetterOrDigit(_request[i]) && (i == 0 || !char.IsLetterOrDigit(_request[i - 1])))
                    {
                        starts.Add(i);
                    }
                }
            }
        }
        var texts = new List<byte[]>();
        foreach (int s in starts.Distinct())
        {
            if (s < _original.Length && Escape(_original[s..Math.Min(_original.Length, s + 32)]) is { Length: > 0 } rest)
            {
                texts.Add(Encoding.UTF8.GetBytes(rest));
            }
        }
        return texts;
    }

    /// <summary>Text as the grammar writes it inside a JSON string, up to the first control character (null when the
    /// text starts with one).</summary>
    private static string? Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (c < ' ')
            {
                break;
            }
            sb.Append(c is '"' or '\\' ? "\\" + c : c.ToString());
        }
        return sb.Length == 0 && text.Length > 0 ? null : sb.ToString();
    }

    private double CallPotential(PartialCall call, HashSet<string> earlier)
    {
        double best = double.NegativeInfinity;
        foreach (var (tool, entities, cost, numberCost) in _tools)
        {
            if (!(call.NameComplete ? tool == call.Name : tool.StartsWith(call.Name, StringComparison.Ordinal)))
            {
                continue;
            }
            if (entities.Length == 0)
            {
                best = Math.Max(best, -cost); // notify.send: no device
                continue;
            }
            foreach (var e in entities)
            {
                if (call.Entity is { } p && !(call.EntityComplete ? e == p : e.StartsWith(p, StringComparison.Ordinal)))
                {
                    continue;
                }
                double numbered = numberCost && _numbered.Contains(e) ? _w.Tool : 0;
                best = Math.Max(best, _w.Entity * (_match[e] - 1) - (earlier.Contains(e) ? _w.Repeat : 0) - cost - numbered);
            }
        }
        double total = double.IsNegativeInfinity(best) ? 0 : best;
        foreach (var (_, value, complete) in call.Numbers)
        {
            if (_numbers.Count > 0 && !_numbers.Any(n => complete ? SameNumber(n, value) : n.StartsWith(value, StringComparison.Ordinal)))
            {
                total -= _w.Number;
            }
        }
        if (call.Message is { } m)
        {
            // Each word that is not the request's costs the weight (a word still being written, if no request word
            // starts with it); a message of the request's words that is not one piece of it, once.
            string lower = m.ToLowerInvariant();
            var words = Words(lower).ToList();
            bool open = !call.MessageComplete && lower.Length > 0 && char.IsLetterOrDigit(lower[^1]);
            int foreign = 0;
            for (int k = 0; k < words.Count; k++)
            {
                bool known = open && k == words.Count - 1
                    ? _words.Any(w => w.StartsWith(words[k], StringComparison.Ordinal))
                    : _words.Contains(words[k]);
                foreign += known ? 0 : 1;
            }
            // Characters the request does not have (symbols, stray UTF-8) each count; so does a message that starts
            // or ends with a space.
            foreach (char ch in lower)
            {
                foreign += !char.IsLetterOrDigit(ch) && _request.IndexOf(ch) < 0 ? 1 : 0;
            }
            if (call.MessageComplete && lower.Length > 0 && (char.IsWhiteSpace(lower[0]) || char.IsWhiteSpace(lower[^1])))
            {
                foreign++;
            }
            if (foreign == 0 && !_request.Contains(lower, StringComparison.Ordinal))
            {
                foreign = 1;
            }
            total -= _w.Message * foreign;
        }
        return total;
    }

    private static string Domain(string tool) => tool[..tool.IndexOf('.')];

    private static bool TakesNumber(ToolDefinition tool) => tool.Extra.Any(p => p.Type is "integer" or "number");

    /// <summary>The index of the word of <paramref name="text"/> that starts at character <paramref name="at"/>.</summary>
    private static int WordIndex(string text, int at) => Words(text[..at]).Count();

    /// <summary>The words of a tool's action ("turn_on" → turn, on) that no other tool of its domain has.</summary>
    private static string[] Distinctive(string tool, IEnumerable<string> all)
    {
        var others = all.Where(t => t != tool && Domain(t) == Domain(tool)).SelectMany(t => t[(t.IndexOf('.') + 1)..].Split('_')).ToHashSet(StringComparer.Ordinal);
        return tool[(tool.IndexOf('.') + 1)..].Split('_').Where(w => !others.Contains(w)).ToArray();
    }

    private static bool SameNumber(string a, string b) =>
        decimal.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out var x)
        && decimal.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out var y) && x == y;

    private static bool Matches(string word, HashSet<string> words) =>
        words.Contains(word) || words.Contains(word + "s") || words.Contains(word + "es")
        || word.EndsWith('s') && words.Contains(word[..^1]) || word.EndsWith("es", StringComparison.Ordinal) && words.Contains(word[..^2]);

    /// <summary>The words of <paramref name="text"/>: runs of letters and digits.</summary>
    internal static IEnumerable<string> Words(string text) => WordSpans(text).Select(w => text[w.Start..w.End]);

    /// <summary>Where the words of <paramref name="text"/> are: runs of letters and digits.</summary>
    internal static IEnumerable<(int Start, int End)> WordSpans(string text)
    {
        int start = -1;
        for (int i = 0; i <= text.Length; i++)
        {
            bool letter = i < text.Length && char.IsLetterOrDigit(text[i]);
            if (letter && start < 0)
            {
                start = i;
            }
            else if (!letter && start >= 0)
            {
                yield return (start, i);
                start = -1;
            }
        }
    }
}

/// <summary>One call of an answer being written: what of it is there so far.</summary>
internal sealed class PartialCall
{
    public string Name { get; set; } = "";
    public bool NameComplete { get; set; }
    public string? Entity { get; set; }
    public bool EntityComplete { get; set; }
    public string? Message { get; set; }
    public bool MessageComplete { get; set; }
    public List<(string Key, string Value, bool Complete)> Numbers { get; } = [];
}

/// <summary>
/// Reads the prefix of an answer <c>{"tool_calls":[{"name":...,"arguments":{...}},...],"reply":...}</c> as the grammar
/// writes it (compact JSON): the calls so far, their parts (complete or not), and whether the list is closed. A
/// trailing partial UTF-8 character or escape is left out.
/// </summary>
internal sealed class PartialAnswer
{
    public List<PartialCall> Calls { get; } = [];
    public bool CallsClosed { get; private set; }

    public static PartialAnswer Read(ReadOnlySpan<byte> output)
    {
        int end = output.Length;
        // Drop an incomplete UTF-8 sequence at the end.
        int lead = end - 1;
        while (lead >= 0 && end - lead <= 3 && (output[lead] & 0xC0) == 0x80)
        {
            lead--;
        }
        if (lead >= 0 && output[lead] >= 0xC0)
        {
            int need = output[lead] >= 0xF0 ? 4 : output[lead] >= 0xE0 ? 3 : 2;
            if (end - lead < need)
            {
                end = lead;
            }
        }
        string text = Encoding.UTF8.GetString(output[..end]);
        var answer = new PartialAnswer();
        // Containers open: 'o' object, 'a' array; the key each open object is at.
        var stack = new List<char>();
        var keys = new List<string?>();
        var sb = new StringBuilder();
        bool inString = false, isKey = false;
        PartialCall? call = null;
        int i = 0;
        string? Key() => keys.Count > 0 ? keys[^1] : null;
        while (i < text.Length)
        {
            char c = text[i];
            if (inString)
            {
                if (c == '\\')
                {
                    if (i + 1 >= text.Length)
                    {
                        break;
                    }
                    char e = text[i + 1];
                    if (e == 'u')
                    {
                        if (i + 6 > text.Length)
                        {
                            break;
                        }
                        sb.Append((char)int.Parse(text.AsSpan(i + 2, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                        i += 6;
                        continue;
                    }
                    sb.Append(e switch { 'n' => '\n', 't' => '\t', 'r' => '\r', 'b' => '\b', 'f' => '\f', _ => e });
                    i += 2;
                    continue;
                }
                if (c == '"')
                {
                    inString = false;
                    if (isKey)
                    {
                        keys[^1] = sb.ToString();
                    }
                    else
                    {
                        answer.Value(call, stack.Count, Key(), sb.ToString(), complete: true);
                    }
                    i++;
                    continue;
                }
                sb.Append(c);
                i++;
                continue;
            }
            switch (c)
            {
                case '{':
                    stack.Add('o');
                    keys.Add(null);
                    if (stack.Count == 3 && answer is { CallsClosed: false })
                    {
                        call = new PartialCall();
                        answer.Calls.Add(call);
                    }
                    isKey = true;
                    break;
                case '[':
                    stack.Add('a');
                    keys.Add(null);
                    break;
                case '}' or ']':
                    if (c == ']' && stack.Count == 2)
                    {
                        answer.CallsClosed = true;
                        call = null;
                    }
                    stack.RemoveAt(stack.Count - 1);
                    keys.RemoveAt(keys.Count - 1);
                    break;
                case ',':
                    isKey = stack.Count > 0 && stack[^1] == 'o';
                    break;
                case ':':
                    isKey = false;
                    break;
                case '"':
                    inString = true;
                    sb.Clear();
                    break;
                default:
                    if (char.IsAsciiDigit(c) || c is '-' or '.')
                    {
                        int j = i;
                        while (j < text.Length && (char.IsAsciiDigit(text[j]) || text[j] is '-' or '.' or 'e' or 'E' or '+'))
                        {
                            j++;
                        }
                        answer.Value(call, stack.Count, Key(), text[i..j], complete: j < text.Length, number: true);
                        i = j;
                        continue;
                    }
                    break;
            }
            i++;
        }
        if (inString && !isKey)
        {
            answer.Value(call, stack.Count, Key(), sb.ToString(), complete: false);
        }
        return answer;
    }

    private void Value(PartialCall? call, int depth, string? key, string value, bool complete, bool number = false)
    {
        if (call is null || key is null)
        {
            return;
        }
        if (depth == 3 && key == "name")
        {
            call.Name = value;
            call.NameComplete = complete;
        }
        else if (depth == 4 && key == "entity_id")
        {
            call.Entity = value;
            call.EntityComplete = complete;
        }
        else if (depth == 4 && key == "message")
        {
            call.Message = value;
            call.MessageComplete = complete;
        }
        else if (depth == 4 && number)
        {
            call.Numbers.Add((key, value, complete));
        }
    }
}
