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
