using System.Text.Json.Nodes;
using EdgeAgent.Agents.Devices;
using EdgeAgent.Inference.Constraints;

namespace EdgeAgent.Agents.Tools;

/// <summary>A tool's fixed description: which device domains it acts on and its extra parameters.</summary>
public sealed record ToolDefinition(string Name, string Description, string[] Domains, ToolParameter[] Extra)
{
    /// <summary>Tools on one entity; <c>notify.send</c> has none.</summary>
    public bool TakesEntity => Domains.Length > 0;

    /// <summary>Changes something in the home (everything but reads).</summary>
    public bool IsAction => Name != "sensor.read";
}

/// <summary>A parameter besides <c>entity_id</c>: integer or number in a range, or a bounded string.</summary>
public sealed record ToolParameter(string Name, string Type, decimal Minimum, decimal Maximum, bool Required, string Description);

/// <summary>
/// The tools of docs/cli.md (Home-Assistant style <c>domain.service</c>), and the JSON Schemas built from the live
/// registry: <c>entity_id</c> is an enum of the devices of the tool's domains that exist, so a call can only name
/// tools and entities that exist.
/// </summary>
public static class ToolCatalog
{
    /// <summary>Longest notify.send message.</summary>
    public const int MaxMessageLength = 120;

    /// <summary>Longest reply the model may write.</summary>
    public const int MaxReplyLength = 120;

    /// <summary>At most this many calls in one answer.</summary>
    public const int MaxCalls = 6;

    public static readonly IReadOnlyList<ToolDefinition> All =
    [
        new("light.turn_on", "Turn a light on, optionally at a brightness in percent.", ["light"],
            [new("brightness", "integer", 0, 100, false, "Brightness in percent.")]),
        new("light.turn_off", "Turn a light off.", ["light"], []),
        new("switch.turn_on", "Turn a switch on.", ["switch"], []),
        new("switch.turn_off", "Turn a switch off.", ["switch"], []),
        new("climate.set_temperature", "Set a thermostat's target temperature in °C.", ["climate"],
            [new("temperature", "number", 5, 35, true, "Target temperature in °C.")]),
        new("lock.lock", "Lock a lock.", ["lock"], []),
        new("lock.unlock", "Unlock a lock (needs confirmation).", ["lock"], []),
        new("cover.open", "Open a cover (blinds, garage door).", ["cover"], []),
        new("cover.close", "Close a cover.", ["cover"], []),
        new("media_player.set_volume", "Set a media player's volume in percent.", ["media_player"],
            [new("volume", "integer", 0, 100, true, "Volume in percent.")]),
        new("sensor.read", "Read a sensor's current value.", ["sensor", "binary_sensor"], []),
        new("notify.send", "Send a notification message to the household.", [],
            [new("message", "string", 1, MaxMessageLength, true, "The message.")]),
    ];

    public static ToolDefinition? Find(string name) => All.FirstOrDefault(t => t.Name == name);

    /// <summary>The tools usable in this home: those whose domains have at least one device (plus notify).</summary>
    public static IEnumerable<(ToolDefinition Tool, string[] Entities)> Available(IEnumerable<Device> devices)
    {
        var list = devices.ToList();
        foreach (var t in All)
        {
            var entities = list.Where(d => t.Domains.Contains(d.Domain)).Select(d => d.EntityId).ToArray();
            if (!t.TakesEntity || entities.Length > 0)
            {
                yield return (t, entities);
            }
        }
    }

    /// <summary>A tool's parameters as JSON Schema, with <c>entity_id</c> as the enum of <paramref name="entities"/>.</summary>
    public static JsonObject ParametersSchema(ToolDefinition tool, IReadOnlyList<string> entities)
    {
        var props = new JsonObject();
        var required = new JsonArray();
        if (tool.TakesEntity)
        {
            props["entity_id"] = new JsonObject { ["enum"] = new JsonArray(entities.Select(e => (JsonNode)e!).ToArray()) };
            required.Add("entity_id");
        }
        foreach (var p in tool.Extra)
        {
            props[p.Name] = p.Type == "string"
                ? new JsonObject { ["type"] = "string", ["minLength"] = (int)p.Minimum, ["maxLength"] = (int)p.Maximum }
                : new JsonObject { ["type"] = p.Type, ["minimum"] = p.Minimum, ["maximum"] = p.Maximum };
            if (p.Required)
            {
                required.Add(p.Name);
            }
        }
        return new JsonObject { ["type"] = "object", ["properties"] = props, ["required"] = required };
    }

    /// <summary>
    /// The schema of the model's whole answer: <c>{"tool_calls": [call, ...], "reply": str}</c>, each call one of the
    /// available tools with its live parameters.
    /// </summary>
    public static JsonObject AnswerSchema(IEnumerable<Device> devices)
    {
        var alternatives = new JsonArray();
        foreach (var (tool, entities) in Available(devices))
        {
            alternatives.Add(new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject
                {
                    ["name"] = new JsonObject { ["const"] = tool.Name },
                    ["arguments"] = ParametersSchema(tool, entities),
                },
                ["required"] = new JsonArray("name", "arguments"),
            });
        }
        return new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject
            {
                ["tool_calls"] = new JsonObject { ["type"] = "array", ["maxItems"] = MaxCalls, ["items"] = new JsonObject { ["anyOf"] = alternatives } },
                ["reply"] = new JsonObject { ["type"] = "string", ["maxLength"] = MaxReplyLength },
            },
            ["required"] = new JsonArray("tool_calls", "reply"),
        };
    }

    /// <summary>The compiled grammar of <see cref="AnswerSchema"/>; compact JSON only (no whitespace).</summary>
    public static SchemaNode AnswerGrammar(IEnumerable<Device> devices) =>
        JsonSchemaCompiler.Compile(AnswerSchema(devices).ToJsonString(), AnswerGrammarOptions);

    public static readonly GrammarOptions AnswerGrammarOptions = new() { MaxWhitespace = 0, MaxFractionDigits = 1 };
}
