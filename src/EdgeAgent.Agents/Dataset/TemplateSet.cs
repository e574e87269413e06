using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeAgent.Agents.Dataset;

/// <summary>
/// Name lists and phrasing templates for one split. The training and evaluation splits share no area, name
/// pattern, template, message or connector, so evaluation measures reading the prompt, not memory
/// (Dataset/Data/train.json and eval.json, embedded).
/// </summary>
public sealed record TemplateSet
{
    [JsonPropertyName("split")] public required string Split { get; init; }
    [JsonPropertyName("areas")] public required string[] Areas { get; init; }
    [JsonPropertyName("names")] public required Dictionary<string, string[]> Names { get; init; }
    [JsonPropertyName("messages")] public required string[] Messages { get; init; }
    [JsonPropertyName("templates")] public required Dictionary<string, string[]> Templates { get; init; }
    [JsonPropertyName("connectors")] public required string[] Connectors { get; init; }
    [JsonPropertyName("no_tool")] public required string[][] NoTool { get; init; }

    /// <summary>More no-tool requests (small talk and requests outside the home), training split only; drawn together
    /// with <see cref="NoTool"/> when <see cref="WithMoreSmallTalk"/> is set, so corpora made without it stay as they
    /// were.</summary>
    [JsonPropertyName("more_small_talk")] public string[][] MoreSmallTalk { get; init; } = [];

    /// <summary>Draw no-tool requests from <see cref="NoTool"/> and <see cref="MoreSmallTalk"/>.</summary>
    [JsonIgnore] public bool WithMoreSmallTalk { get; init; }

    /// <summary>Share of devices named with a made-up word (optionally followed by a kind word of any domain), so a
    /// model must read a device's domain and id from the inventory instead of guessing them from familiar names.</summary>
    [JsonPropertyName("made_up_names")] public double MadeUpNames { get; init; }

    /// <summary>Share of notification messages made of random words (made-up ones and words of the message list), so a
    /// model learns to copy the message from the request instead of recalling one it has seen.</summary>
    [JsonPropertyName("made_up_messages")] public double MadeUpMessages { get; init; }

    /// <summary>Share of multi-action requests, the other kinds keeping their relative shares; null: the generator's
    /// own mix (20 %), drawn exactly as before so seeded corpora stay the same.</summary>
    [JsonIgnore] public double? MultiShare { get; init; }

    /// <summary>Share of devices whose entity id is not derived from the name (as with real integrations:
    /// <c>light.shelly_42</c>), so the id must be copied from the inventory line, not spelled from the request.</summary>
    [JsonPropertyName("opaque_ids")] public double OpaqueIds { get; init; }

    /// <summary>The embedded set for "train" or "eval".</summary>
    /// <exception cref="ArgumentException">Unknown split.</exception>
    public static TemplateSet Load(string split)
    {
        if (split is not ("train" or "eval"))
        {
            throw new ArgumentException($"unknown split '{split}': use train or eval");
        }
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream($"EdgeAgent.Agents.Dataset.{split}.json")
            ?? throw new InvalidOperationException($"embedded template set '{split}' is missing");
        return JsonSerializer.Deserialize<TemplateSet>(s) ?? throw new InvalidOperationException($"template set '{split}' is empty");
    }
}
