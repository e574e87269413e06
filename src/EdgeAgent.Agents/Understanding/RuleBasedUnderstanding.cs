using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EdgeAgent.Agents.Devices;
using EdgeAgent.Agents.Tools;

namespace EdgeAgent.Agents.Understanding;

/// <summary>
/// A deterministic, rule-based stand-in for the language model — <b>not</b> an LLM — used when no model is given, so
/// the demo and CI run end to end. It matches device names (longest first, before splitting clauses, so a device
/// name containing "and unlock" stays a name), areas with device words, verbs and numbers. Its proposals go through
/// the same policy as a model's.
/// </summary>
public sealed partial class RuleBasedUnderstanding : IUnderstanding
{
    public const string Label = "rules (fallback, not a language model)";

    public string Name => Label;

    public bool IsLanguageModel => false;

    [GeneratedRegex(@"^(?:please\s+)?(?:send\s+(?:a\s+)?(?:message|notification)(?:\s+to\s+(?:everyone|everybody|the family))?|notify\s+(?:everyone|everybody|the family)|tell\s+(?:everyone|everybody|the family)|announce)\s*(?:saying|that)?\s*[:,]?\s*(?<m>.+)$", RegexOptions.IgnoreCase)]
    private static partial Regex NotifyPattern();

    [GeneratedRegex(@"\s*(?:,\s*and\s+|,\s*then\s+|\s+and\s+then\s+|\s+and\s+|\s+then\s+|;\s*|,\s*)", RegexOptions.IgnoreCase)]
    private static partial Regex ClauseSplit();

    [GeneratedRegex(@"(?<n>\d+(?:\.\d+)?)\s*(?<u>%|percent|degrees|°c|°|c\b)?", RegexOptions.IgnoreCase)]
    private static partial Regex NumberPattern();

    private static readonly Dictionary<string, string[]> DomainWords = new()
    {
        ["light"] = ["light", "lights", "lamp", "lamps", "bulb", "lighting"],
        ["switch"] = ["switch", "plug", "socket", "outlet", "fan", "coffee maker", "kettle"],
        ["climate"] = ["thermostat", "heating", "heater", "temperature", "ac", "air conditioning"],
        ["lock"] = ["lock", "door"],
        ["cover"] = ["blinds", "blind", "shades", "shade", "curtains", "curtain", "garage door", "shutters", "cover"],
        ["media_player"] = ["speaker", "music", "tv", "radio", "volume", "stereo"],
        ["sensor"] = ["temperature", "humidity", "sensor", "power"],
        ["binary_sensor"] = ["motion", "window", "door sensor", "sensor"],
    };

    public Proposal Propose(UnderstandingInput input, CancellationToken cancellation = default)
    {
        string request = input.Request.Trim();
        if (NotifyPattern().Match(request) is { Success: true } n)
        {
            string message = n.Groups["m"].Value.Trim();
            message = message.Length > ToolCatalog.MaxMessageLength ? message[..ToolCatalog.MaxMessageLength] : message;
            if (message.Length > 0)
            {
                var call = new ToolCall("notify.send", new JsonObject { ["message"] = message });
                return new Proposal([call], "Message sent.");
            }
        }
        var devices = input.Devices;
        // Replace device names by placeholders (longest first), so names never split into clauses or act as verbs.
        string text = " " + request.ToLowerInvariant() + " ";
        var named = new List<Device>();
        foreach (var d in devices.Where(d => d.Name.Length >= 3).OrderByDescending(d => d.Name.Length))
        {
            string name = d.Name.ToLowerInvariant();
            int at = IndexOfWord(text, name);
            if (at >= 0)
            {
                text = text[..at] + $" \u0001{named.Count}\u0001 " + text[(at + name.Length)..];
                named.Add(d);
            }
        }
        var calls = new List<ToolCall>();
        List<Device> previous = [];
        string previousClause = "";
        foreach (var clause in ClauseSplit().Split(text).Select(c => c.Trim()).Where(c => c.Length > 0))
        {
            var targets = Targets(clause, named, devices);
            if (targets.Count == 0 && Regex.IsMatch(clause, @"\b(it|them|that)\b"))
            {
                targets = previous;
            }
            var clauseCalls = CallsFor(clause, targets);
            if (clauseCalls.Count > 0)
            {
                previousClause = Regex.Replace(clause, "\u0001\\d+\u0001", " ");
            }
            else if (targets.Count > 0 && previousClause.Length > 0)
            {
                // "turn on the kitchen light and the coffee maker": the verb carries over to the next clause.
                clauseCalls = CallsFor(previousClause + " " + clause, targets);
            }
            calls.AddRange(clauseCalls);
            if (targets.Count > 0)
            {
                previous = targets;
            }
        }
        calls = calls.Take(ToolCatalog.MaxCalls).ToList();
        return new Proposal(calls, Reply(calls, request, devices));
    }

    private static List<Device> Targets(string clause, List<Device> named, IReadOnlyList<Device> devices)
    {
        var found = new List<Device>();
        foreach (Match m in Regex.Matches(clause, "\u0001(\\d+)\u0001"))
        {
            found.Add(named[int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)]);
        }
        if (found.Count > 0)
        {
            return found;
        }
        // An area plus a device word ("the kitchen lights"), or a device word naming a single device of a domain.
        var areas = devices.Select(d => d.Area).Where(a => a.Length > 0).Distinct()
            .Where(a => IndexOfWord(clause, a.ToLowerInvariant()) >= 0).ToList();
        foreach (var (domain, words) in DomainWords)
        {
            if (!words.Any(w => IndexOfWord(clause, w) >= 0))
            {
                continue;
            }
            var ofDomain = devices.Where(d => d.Domain == domain).ToList();
            var inArea = areas.Count > 0 ? ofDomain.Where(d => areas.Contains(d.Area)).ToList() : ofDomain;
            bool all = Regex.IsMatch(clause, @"\ball\b|\bevery\b|\blights\b|\blamps\b");
            if (inArea.Count == 1 || (all && inArea.Count > 0))
            {
                found.AddRange(inArea);
            }
            else if (inArea.Count > 1 && words.Any(w => w != words[0]))
            {
                // Several candidates: prefer those whose name holds the device word.
                var byWord = inArea.Where(d => words.Any(w => IndexOfWord(" " + d.Name.ToLowerInvariant() + " ", w) >= 0 && IndexOfWord(clause, w) >= 0)).ToList();
                if (byWord.Count == 1)
                {
                    found.AddRange(byWord);
                }
            }
            if (found.Count > 0)
            {
                break;
            }
        }
        return found;
    }

    private static List<ToolCall> CallsFor(string clause, List<Device> targets)
    {
        var calls = new List<ToolCall>();
        var number = NumberPattern().Match(Regex.Replace(clause, "\u0001\\d+\u0001", " "));
        decimal? value = number.Success && decimal.TryParse(number.Groups["n"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;
        bool question = Regex.IsMatch(clause, @"^(what|what's|whats|how|is|are|read|check|tell me|show)\b|\?");
        bool on = Regex.IsMatch(clause, @"\b(turn|switch|power|put)\s+(\S+\s+)*?on\b|\bon\b|\bstart\b|\bbrew\b");
        bool off = Regex.IsMatch(clause, @"\b(turn|switch|power|put)\s+(\S+\s+)*?off\b|\boff\b|\bstop\b|\bkill\b");
        foreach (var d in targets)
        {
            var args = new JsonObject { ["entity_id"] = d.EntityId };
            string? tool = null;
            switch (d.Domain)
            {
                case "light":
                    if (off) { tool = "light.turn_off"; }
                    else if (value is { } b && b <= 100 && (on || Regex.IsMatch(clause, @"\b(set|dim|brighten|to)\b"))) { tool = "light.turn_on"; args["brightness"] = (int)b; }
                    else if (on) { tool = "light.turn_on"; }
                    break;
                case "switch":
                    tool = off ? "switch.turn_off" : on ? "switch.turn_on" : null;
                    break;
                case "climate":
                    if (value is { } t && t >= 5 && t <= 35) { tool = "climate.set_temperature"; args["temperature"] = t; }
                    break;
                case "lock":
                    tool = Regex.IsMatch(clause, @"\bunlock\b") ? "lock.unlock" : Regex.IsMatch(clause, @"\block\b") ? "lock.lock" : null;
                    break;
                case "cover":
                    tool = Regex.IsMatch(clause, @"\b(open|raise|up)\b") ? "cover.open" : Regex.IsMatch(clause, @"\b(close|lower|shut|down)\b") ? "cover.close" : null;
                    break;
                case "media_player":
                    if (value is { } vol && vol <= 100) { tool = "media_player.set_volume"; args["volume"] = (int)vol; }
                    break;
                case "sensor" or "binary_sensor":
                    tool = "sensor.read";
                    break;
            }
            if (tool is not null && (tool != "sensor.read" || question || clause.Contains("read")))
            {
                calls.Add(new ToolCall(tool, args));
            }
        }
        return calls;
    }

    private static string Reply(List<ToolCall> calls, string request, IReadOnlyList<Device> devices)
    {
        if (calls.Count > 0)
        {
            return calls.All(c => c.Name == "sensor.read") ? "Here is the reading." : "OK.";
        }
        string r = request.ToLowerInvariant();
        if (Regex.IsMatch(r, @"\b(hi|hello|hey|good (morning|evening|afternoon))\b"))
        {
            return "Hello! I can control the devices of this home.";
        }
        if (Regex.IsMatch(r, @"\b(thanks|thank you)\b"))
        {
            return "You're welcome.";
        }
        return "I can only control the devices of this home.";
    }

    /// <summary>Index of <paramref name="word"/> in <paramref name="text"/> as whole words, or -1.</summary>
    private static int IndexOfWord(string text, string word)
    {
        int from = 0;
        while (true)
        {
            int at = text.IndexOf(word, from, StringComparison.Ordinal);
            if (at < 0)
            {
                return -1;
            }
            bool left = at == 0 || !char.IsLetterOrDigit(text[at - 1]);
            bool right = at + word.Length >= text.Length || !char.IsLetterOrDigit(text[at + word.Length]);
            if (left && right)
            {
                return at;
            }
            from = at + 1;
        }
    }
}
