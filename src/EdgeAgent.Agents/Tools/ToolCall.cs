using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeAgent.Inference.Constraints;

namespace EdgeAgent.Agents.Tools;

/// <summary>A call the agent decided on: a tool name (<c>domain.service</c>) and its arguments.</summary>
public sealed record ToolCall(string Name, JsonObject Arguments)
{
    /// <summary>The <c>entity_id</c> argument, when there is one.</summary>
    public string? EntityId => Arguments["entity_id"] is JsonValue v && v.TryGetValue(out string? s) ? s : null;

    public JsonObject ToJson() => new() { ["name"] = Name, ["arguments"] = Arguments.DeepClone() };

    /// <summary>Compact JSON, arguments in their order.</summary>
    public override string ToString() => JsonText.Write(ToJson());

    /// <summary>Same tool and same arguments (numbers compared by value: 21 equals 21.0; key order ignored).</summary>
    public bool SameAs(ToolCall other) => Name == other.Name && JsonEquals(Arguments, other.Arguments);

    /// <summary>Reads <c>{"name": str, "arguments": {...}}</c>; null when the shape is wrong.</summary>
    public static ToolCall? FromJson(JsonNode? node) =>
        node is JsonObject o && o["name"] is JsonValue n && n.TryGetValue(out string? name)
            ? new ToolCall(name, o["arguments"] is JsonObject a ? (JsonObject)a.DeepClone() : [])
            : null;

    private static bool JsonEquals(JsonNode? a, JsonNode? b)
    {
        switch (a, b)
        {
            case (null, null):
                return true;
            case (JsonObject x, JsonObject y):
                return x.Count == y.Count && x.All(p => y.TryGetPropertyValue(p.Key, out var v) && JsonEquals(p.Value, v));
            case (JsonArray x, JsonArray y):
                return x.Count == y.Count && x.Zip(y).All(p => JsonEquals(p.First, p.Second));
            case (JsonValue x, JsonValue y):
                var ex = x.GetValueKind();
                if (ex == JsonValueKind.Number && y.GetValueKind() == JsonValueKind.Number)
                {
                    return decimal.Parse(x.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture)
                        == decimal.Parse(y.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
                }
                return x.ToJsonString() == y.ToJsonString();
            default:
                return false;
        }
    }
}
