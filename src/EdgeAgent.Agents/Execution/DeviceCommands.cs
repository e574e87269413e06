using System.Globalization;
using System.Text.Json.Nodes;
using EdgeAgent.Agents.Devices;
using EdgeAgent.Agents.Tools;

namespace EdgeAgent.Agents.Execution;

/// <summary>What a service does to a device's state — the simulated devices' behaviour, shared by the MQTT
/// simulator and the in-process executor.</summary>
public static class DeviceCommands
{
    /// <summary>The service part of a tool name (<c>turn_on</c> in <c>light.turn_on</c>).</summary>
    public static string Service(string tool) => tool[(tool.IndexOf('.') + 1)..];

    /// <summary>The new (state, attributes) after <paramref name="service"/>, or null when the device does not
    /// support it.</summary>
    public static (string State, JsonObject Attributes)? Apply(Device device, string service, JsonObject args)
    {
        var attrs = (JsonObject)device.Attributes.DeepClone();
        switch (device.Domain, service)
        {
            case ("light", "turn_on"):
                attrs["brightness"] = Number(args["brightness"]) is { } b ? (int)b : 100;
                return ("on", attrs);
            case ("light", "turn_off"):
                attrs["brightness"] = 0;
                return ("off", attrs);
            case ("switch", "turn_on"):
                return ("on", attrs);
            case ("switch", "turn_off"):
                return ("off", attrs);
            case ("climate", "set_temperature") when Number(args["temperature"]) is { } t:
                attrs["temperature"] = t;
                return ("heat", attrs);
            case ("lock", "lock"):
                return ("locked", attrs);
            case ("lock", "unlock"):
                return ("unlocked", attrs);
            case ("cover", "open"):
                return ("open", attrs);
            case ("cover", "close"):
                return ("closed", attrs);
            case ("media_player", "set_volume") when Number(args["volume"]) is { } v:
                attrs["volume"] = (int)v;
                return (device.State, attrs);
            default:
                return null;
        }
    }

    private static decimal? Number(JsonNode? n) =>
        n is JsonValue v && decimal.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;

    /// <summary>A short human description of a device's state.</summary>
    public static string Describe(Device d)
    {
        string extra = d.Domain switch
        {
            "light" when d.State == "on" && d.Attributes["brightness"] is { } b => $", {b}%",
            "climate" when d.Attributes["temperature"] is { } t => $", target {t}°C",
            "media_player" when d.Attributes["volume"] is { } v => $", volume {v}%",
            "sensor" when d.Attributes["unit"] is JsonValue u && u.TryGetValue(out string? unit) => unit,
            _ => "",
        };
        return d.Domain == "sensor" ? d.State + extra : d.State + extra;
    }

    /// <summary>The call as a command payload: <c>{"service": str, ...other arguments}</c>.</summary>
    public static JsonObject Payload(ToolCall call)
    {
        var o = new JsonObject { ["service"] = Service(call.Name) };
        foreach (var (k, v) in call.Arguments)
        {
            if (k != "entity_id")
            {
                o[k] = v?.DeepClone();
            }
        }
        return o;
    }
}
