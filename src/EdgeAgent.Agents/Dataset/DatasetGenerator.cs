using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using EdgeAgent.Agents.Devices;
using EdgeAgent.Agents.Memory;
using EdgeAgent.Agents.Tools;
using EdgeAgent.Agents.Understanding;
using EdgeAgent.Inference.ChatTemplates;
using EdgeAgent.Inference.Constraints;

namespace EdgeAgent.Agents.Dataset;

/// <summary>One example: a home, a request, the exact calls expected, and the reply to learn.</summary>
public sealed record DatasetExample(string Split, string Type, IReadOnlyList<Device> Home, string Request, IReadOnlyList<ToolCall> Expected, string Reply)
{
    /// <summary>Request types: single, numeric, multi, query, notify, no_tool.</summary>
    public static readonly string[] Types = ["single", "numeric", "multi", "query", "notify", "no_tool"];

    public JsonObject ToJson() => new()
    {
        ["split"] = Split, ["type"] = Type, ["request"] = Request,
        ["expected"] = new JsonArray(Expected.Select(c => (JsonNode)c.ToJson()).ToArray()),
        ["reply"] = Reply,
        ["home"] = JsonNode.Parse(HomeFile.Write(Home)),
    };

    public static DatasetExample FromJson(JsonObject o) => new(
        o["split"]?.GetValue<string>() ?? "", o["type"]?.GetValue<string>() ?? "",
        HomeFile.Parse(o["home"]?.ToJsonString() ?? "{}"),
        o["request"]?.GetValue<string>() ?? "",
        (o["expected"] as JsonArray ?? []).Select(ToolCall.FromJson).OfType<ToolCall>().ToList(),
        o["reply"]?.GetValue<string>() ?? "");

    /// <summary>The answer the model should write, exactly as the grammar writes it.</summary>
    public string Answer => PromptBuilder.Answer(Expected, Reply);

    /// <summary>The training text: the chat (ChatML) with system prompt, request and answer.</summary>
    public string ChatText(ChatTemplate? template = null) => ChatText([this], template);

    /// <summary>One chat about the home of the first example: system prompt, then each request and its answer.
    /// Its first turn is exactly the prompt and answer of a single request.</summary>
    public static string ChatText(IReadOnlyList<DatasetExample> turns, ChatTemplate? template = null)
    {
        var messages = new List<ChatMessage> { new("system", PromptBuilder.System(turns[0].Home, [])) };
        foreach (var t in turns)
        {
            messages.Add(new ChatMessage("user", t.Request));
            // A newline after the JSON: otherwise the byte-level BPE merges its last characters with the end-of-turn
            // marker ('."}<|'), a token the grammar can never allow (it runs past the end of the document), so a
            // model trained on that text would be pushed off its own answers at the last step.
            messages.Add(new ChatMessage("assistant", t.Answer + "\n"));
        }
        return (template ?? ChatTemplate.ChatMl).Render(messages, new ChatTemplateOptions { AddGenerationPrompt = false });
    }
}

/// <summary>
/// Generates tool-call examples from a <see cref="TemplateSet"/>: random homes (areas, device mixes of 5–100 devices,
/// names from the set's patterns, random states), many phrasings, multi-action requests, numeric arguments,
/// sensor reads, notifications and requests that need no tool. Deterministic for a seed.
/// </summary>
public sealed class DatasetGenerator(TemplateSet set, int seed)
{
    private readonly Random _rng = new(seed);

    private static readonly string[] Domains = ["light", "switch", "climate", "lock", "cover", "media_player", "sensor", "binary_sensor"];
    private static readonly int[] DomainWeights = [30, 12, 5, 5, 8, 6, 10, 6];

    public IEnumerable<DatasetExample> Generate(int count)
    {
        for (int i = 0; i < count; i++)
        {
            yield return Next();
        }
    }

    public DatasetExample Next()
    {
        while (true)
        {
            if (NextFor(RandomHome()) is { } example)
            {
                return example;
            }
        }
    }

    /// <summary>Chats for the training corpus: each a random home with <paramref name="turns"/> independent requests
    /// about it (the system prompt, then request/answer pairs), so one inventory teaches several answers.</summary>
    public IEnumerable<IReadOnlyList<DatasetExample>> Conversations(int count, int turns)
    {
        for (int i = 0; i < count; i++)
        {
            var home = RandomHome();
            var chat = new List<DatasetExample>();
            for (int k = 0; k < turns; k++)
            {
                if (NextFor(home) is { } example)
                {
                    chat.Add(example);
                }
            }
            if (chat.Count > 0)
            {
                yield return chat;
            }
        }
    }

    /// <summary>A request about <paramref name="home"/>; null when the drawn kind has no suitable device.</summary>
    public DatasetExample? NextFor(List<Device> home)
    {
        double u = _rng.NextDouble();
        string type = u < 0.32 ? "single" : u < 0.52 ? "numeric" : u < 0.72 ? "multi" : u < 0.82 ? "query" : u < 0.89 ? "notify" : "no_tool";
        if (set.MultiShare is { } multi)
        {
            // The other kinds in their usual proportions (32 : 20 : 10 : 7 : 11) over the rest.
            double r = (u - multi) / (1 - multi) * 0.8;
            type = u < multi ? "multi" : r < 0.32 ? "single" : r < 0.52 ? "numeric" : r < 0.62 ? "query" : r < 0.69 ? "notify" : "no_tool";
        }
        switch (type)
        {
            case "notify":
                string message = _rng.NextDouble() < set.MadeUpMessages ? MadeUpMessage() : Pick(set.Messages);
                var call = new ToolCall("notify.send", new JsonObject { ["message"] = message });
                return new(set.Split, type, home, Fill(Pick(set.Templates["notify.send"]), "{message}", message), [call], "Message sent.");
            case "no_tool":
                var pair = set.WithMoreSmallTalk && set.MoreSmallTalk.Length > 0 ? Pick([.. set.NoTool, .. set.MoreSmallTalk]) : Pick(set.NoTool);
                return new(set.Split, type, home, pair[0], [], pair[1]);
            case "multi":
                var calls = new List<ToolCall>();
                var parts = new List<string>();
                int n = _rng.Next(2, 4);
                for (int k = 0; k < n; k++)
                {
                    if (Clause(home, _rng.NextDouble() < 0.3 ? "numeric" : "single") is { } c && calls.All(x => x.EntityId != c.Call.EntityId))
                    {
                        calls.Add(c.Call);
                        parts.Add(c.Text);
                    }
                }
                if (calls.Count >= 2)
                {
                    var text = new StringBuilder(parts[0]);
                    for (int k = 1; k < parts.Count; k++)
                    {
                        text.Append(Pick(set.Connectors)).Append(parts[k]);
                    }
                    return new(set.Split, type, home, text.ToString(), calls, "OK.");
                }
                goto default;
            default:
                var one = Clause(home, type) ?? Clause(home, "single");
                if (one is null)
                {
                    return null;
                }
                return new(set.Split, type, home, one.Value.Text, [one.Value.Call], type == "query" ? "Here is the reading." : "OK.");
        }
    }

    /// <summary>One request clause of a kind, on a random suitable device of the home.</summary>
    private (string Text, ToolCall Call)? Clause(IReadOnlyList<Device> home, string type)
    {
        string[] tools = type switch
        {
            "numeric" => ["light.turn_on+brightness", "climate.set_temperature", "media_player.set_volume"],
            "query" => ["sensor.read"],
            _ => ["light.turn_on", "light.turn_off", "switch.turn_on", "switch.turn_off", "lock.lock", "lock.unlock", "cover.open", "cover.close"],
        };
        var usable = tools.Select(t => (Key: t, Tool: ToolCatalog.Find(t.Split('+')[0])!))
            .Select(t => (t.Key, t.Tool, Devices: home.Where(d => t.Tool.Domains.Contains(d.Domain)).ToList()))
            .Where(t => t.Devices.Count > 0).ToList();
        if (usable.Count == 0)
        {
            return null;
        }
        var (key, tool, devices) = usable[_rng.Next(usable.Count)];
        var device = devices[_rng.Next(devices.Count)];
        var args = new JsonObject { ["entity_id"] = device.EntityId };
        string text = Fill(Pick(set.Templates[key]), "{name}", _rng.NextDouble() < 0.7 ? device.Name.ToLowerInvariant() : device.Name);
        switch (key)
        {
            case "light.turn_on+brightness":
                int b = _rng.Next(1, 20) * 5;
                args["brightness"] = b;
                text = Fill(text, "{brightness}", b.ToString(CultureInfo.InvariantCulture));
                break;
            case "climate.set_temperature":
                decimal t = _rng.Next(32, 56) / 2m;
                args["temperature"] = t;
                text = Fill(text, "{temperature}", t.ToString(CultureInfo.InvariantCulture));
                break;
            case "media_player.set_volume":
                int v = _rng.Next(0, 21) * 5;
                args["volume"] = v;
                text = Fill(text, "{volume}", v.ToString(CultureInfo.InvariantCulture));
                break;
        }
        return (text, new ToolCall(tool.Name, args));
    }

    /// <summary>A random home: a few areas, a weighted mix of device kinds, unique names and entity ids; now and then
    /// a large one (up to 100 devices) so long inventories are seen too.</summary>
    public List<Device> RandomHome()
    {
        int target = _rng.NextDouble() < 0.1 ? _rng.Next(40, 101) : _rng.Next(5, 26);
        var areas = set.Areas.OrderBy(_ => _rng.Next()).Take(Math.Min(set.Areas.Length, Math.Max(2, target / 4))).ToList();
        var devices = new List<Device>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int attempts = 0; devices.Count < target && attempts < target * 20; attempts++)
        {
            string domain = WeightedDomain();
            string area = areas[_rng.Next(areas.Count)];
            string name = _rng.NextDouble() < set.MadeUpNames ? MadeUpName() : Pick(set.Names[domain]).Replace("{area}", area, StringComparison.Ordinal);
            if (!names.Add(name))
            {
                continue;
            }
            string id = domain + "." + (_rng.NextDouble() < set.OpaqueIds ? OpaqueId() : Slug(name));
            for (int k = 2; !ids.Add(id); k++)
            {
                id = domain + "." + Slug(name) + "_" + k.ToString(CultureInfo.InvariantCulture);
            }
            devices.Add(new Device(id, name, area, RandomState(domain), RandomAttributes(domain)));
        }
        return devices.OrderBy(d => areas.IndexOf(d.Area)).ToList();
    }

    private static readonly string[] KindWords = ["lamp", "light", "plug", "fan", "socket", "thermostat", "door", "blinds", "speaker", "TV", "meter", "sensor", "pump", "radio"];
    private static readonly string[] Integrations = ["shelly", "hue", "zigbee", "tasmota", "sonoff", "tuya", "node", "dev"];

    /// <summary>A pronounceable made-up name ("Tavizo"), now and then followed by a kind word of any domain.</summary>
    private string MadeUpName()
    {
        string word = MadeUpWord();
        word = char.ToUpperInvariant(word[0]) + word[1..];
        return _rng.NextDouble() < 0.6 ? word + " " + Pick(KindWords) : word;
    }

    private string MadeUpWord()
    {
        const string consonants = "bdfgklmnprstvz", vowels = "aeiou";
        var sb = new StringBuilder();
        for (int k = _rng.Next(2, 4); k > 0; k--)
        {
            sb.Append(consonants[_rng.Next(consonants.Length)]).Append(vowels[_rng.Next(vowels.Length)]);
        }
        return sb.ToString();
    }

    /// <summary>Two to six words, each made up or taken from the split's messages.</summary>
    private string MadeUpMessage()
    {
        var words = new string[_rng.Next(2, 7)];
        for (int i = 0; i < words.Length; i++)
        {
            words[i] = _rng.Next(2) == 0 ? MadeUpWord() : Pick(Pick(set.Messages).Split(' '));
        }
        return string.Join(' ', words);
    }

    /// <summary>An object id unrelated to the device's name, like integrations make them ("shelly_42").</summary>
    private string OpaqueId() => Pick(Integrations) + "_" + _rng.Next(1, 100).ToString(CultureInfo.InvariantCulture);

    private string WeightedDomain()
    {
        int r = _rng.Next(DomainWeights.Sum());
        for (int i = 0; i < Domains.Length; i++)
        {
            if ((r -= DomainWeights[i]) < 0)
            {
                return Domains[i];
            }
        }
        return Domains[0];
    }

    private string RandomState(string domain) => domain switch
    {
        "light" or "switch" or "binary_sensor" => _rng.Next(2) == 0 ? "on" : "off",
        "lock" => _rng.Next(3) == 0 ? "unlocked" : "locked",
        "cover" => _rng.Next(2) == 0 ? "open" : "closed",
        "climate" => "heat",
        "media_player" => _rng.Next(2) == 0 ? "playing" : "idle",
        "sensor" => (_rng.Next(0, 300) / 10.0).ToString("0.0", CultureInfo.InvariantCulture),
        _ => "unknown",
    };

    private JsonObject RandomAttributes(string domain) => domain switch
    {
        "light" => new JsonObject { ["brightness"] = _rng.Next(0, 101) },
        "climate" => new JsonObject { ["temperature"] = _rng.Next(16, 25) },
        "media_player" => new JsonObject { ["volume"] = _rng.Next(0, 21) * 5 },
        _ => [],
    };

    private T Pick<T>(IReadOnlyList<T> list) => list[_rng.Next(list.Count)];

    private static string Fill(string template, string slot, string value) => template.Replace(slot, value, StringComparison.Ordinal);

    /// <summary>An object id from a name: lower case, runs of other characters become one underscore.</summary>
    public static string Slug(string name)
    {
        var sb = new StringBuilder();
        foreach (char c in name.ToLowerInvariant())
        {
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9')
            {
                sb.Append(c);
            }
            else if (sb.Length > 0 && sb[^1] != '_')
            {
                sb.Append('_');
            }
        }
        return sb.ToString().Trim('_') is { Length: > 0 } s ? s : "device";
    }
}
