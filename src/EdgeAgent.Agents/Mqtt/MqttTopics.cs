using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeAgent.Agents.Mqtt;

/// <summary>
/// The topic layout: devices publish <c>{prefix}/{entity_id}/state</c> with <c>{"state": str, "attributes": {...}}</c>
/// (retained); the agent publishes commands to <c>{prefix}/{entity_id}/set</c> with <c>{"service": str, ...args}</c>
/// and notifications to <c>{prefix}/notify</c>.
/// </summary>
public sealed record MqttTopics(string Prefix = "edgeagent/home")
{
    public string State(string entityId) => $"{Prefix}/{entityId}/state";
    public string Set(string entityId) => $"{Prefix}/{entityId}/set";
    public string Notify => $"{Prefix}/notify";
    public string AllStates => $"{Prefix}/+/state";
    public string AllSets => $"{Prefix}/+/set";

    /// <summary>The entity id in <c>{prefix}/{entity_id}/{leaf}</c>, or null.</summary>
    public string? EntityOf(string topic, string leaf)
    {
        if (!topic.StartsWith(Prefix + "/", StringComparison.Ordinal) || !topic.EndsWith("/" + leaf, StringComparison.Ordinal))
        {
            return null;
        }
        int start = Prefix.Length + 1, end = topic.Length - leaf.Length - 1;
        return end > start ? topic[start..end] : null;
    }

    /// <summary>Parses a JSON object payload; null (with the reason) when it is not one.</summary>
    public static JsonObject? ParseObject(ReadOnlySpan<byte> payload, out string? error)
    {
        error = null;
        if (payload.Length > 64 * 1024)
        {
            error = $"payload of {payload.Length} bytes is too large";
            return null;
        }
        try
        {
            var node = JsonNode.Parse(payload, documentOptions: new JsonDocumentOptions { MaxDepth = 16 });
            if (node is JsonObject o)
            {
                return o;
            }
            error = "payload is JSON but not an object";
        }
        catch (JsonException)
        {
            string shown = Encoding.UTF8.GetString(payload[..Math.Min(payload.Length, 40)]).ReplaceLineEndings(" ");
            error = $"payload is not JSON: '{shown}'";
        }
        return null;
    }
}
