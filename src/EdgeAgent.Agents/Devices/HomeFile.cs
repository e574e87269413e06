using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace EdgeAgent.Agents.Devices;

/// <summary>
/// Reads and writes HOME.json: <c>{"devices": [{"entity_id": "light.kitchen", "name": "Kitchen light", "area":
/// "Kitchen", "state"?: str, "attributes"?: {...}}]}</c>. Every problem is a <see cref="HomeFormatException"/>
/// naming the device and field.
/// </summary>
public static partial class HomeFile
{
    /// <summary>Longest name or area kept (longer text from a device is cut).</summary>
    public const int MaxTextLength = 64;

    public const int MaxDevices = 1000;

    [GeneratedRegex("^[a-z_][a-z0-9_]*\\.[a-z0-9_]+$")]
    private static partial Regex EntityIdPattern();

    public static bool IsValidEntityId(string id) => id.Length <= 96 && EntityIdPattern().IsMatch(id);

    /// <exception cref="HomeFormatException">The file is missing, not JSON, or not a valid home.</exception>
    public static List<Device> Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new HomeFormatException($"home file not found: {path}");
        }
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (HomeFormatException e)
        {
            throw new HomeFormatException($"{path}: {e.Message}");
        }
    }

    /// <exception cref="HomeFormatException">Not JSON, or not a valid home.</exception>
    public static List<Device> Parse(string json)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            throw new HomeFormatException($"not valid JSON: {e.Message}");
        }
        if (root is not JsonObject obj || obj["devices"] is not JsonArray list)
        {
            throw new HomeFormatException("expected an object with a \"devices\" array");
        }
        if (list.Count > MaxDevices)
        {
            throw new HomeFormatException($"{list.Count} devices; at most {MaxDevices} are supported");
        }
        var devices = new List<Device>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] is not JsonObject d)
            {
                throw new HomeFormatException($"devices[{i}] is not an object");
            }
            string id = Text(d, "entity_id", i) ?? throw new HomeFormatException($"devices[{i}] has no entity_id");
            if (!IsValidEntityId(id))
            {
                throw new HomeFormatException($"devices[{i}]: entity_id '{Clip(id)}' is not of the form domain.object_id (lower-case letters, digits, _)");
            }
            if (!seen.Add(id))
            {
                throw new HomeFormatException($"duplicate entity_id '{id}'");
            }
            string name = Text(d, "name", i) ?? id;
            string area = Text(d, "area", i) ?? "";
            string state = d["state"] switch
            {
                null => DefaultState(id[..id.IndexOf('.')]),
                JsonValue v when v.TryGetValue(out string? s) => Clip(s),
                JsonValue v => Clip(v.ToJsonString()),
                _ => throw new HomeFormatException($"devices[{i}] ({id}): state must be a string or number"),
            };
            var attributes = d["attributes"] switch
            {
                null => new JsonObject(),
                JsonObject a => (JsonObject)a.DeepClone(),
                _ => throw new HomeFormatException($"devices[{i}] ({id}): attributes must be an object"),
            };
            devices.Add(new Device(id, Clip(name), Clip(area), state, attributes));
        }
        return devices;
    }

    /// <summary>The devices as HOME.json.</summary>
    public static string Write(IEnumerable<Device> devices)
    {
        var list = new JsonArray();
        foreach (var d in devices)
        {
            list.Add(new JsonObject
            {
                ["entity_id"] = d.EntityId, ["name"] = d.Name, ["area"] = d.Area, ["state"] = d.State,
                ["attributes"] = d.Attributes.DeepClone(),
            });
        }
        return new JsonObject { ["devices"] = list }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>The state a device starts in when the file gives none.</summary>
    public static string DefaultState(string domain) => domain switch
    {
        "light" or "switch" or "binary_sensor" => "off",
        "lock" => "locked",
        "cover" => "closed",
        "climate" => "heat",
        "media_player" => "idle",
        "sensor" => "unknown",
        _ => "unknown",
    };

    private static string? Text(JsonObject d, string key, int i) => d[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? s) => s,
        _ => throw new HomeFormatException($"devices[{i}]: {key} must be a string"),
    };

    /// <summary>Cuts device-provided text to <see cref="MaxTextLength"/> characters and drops control characters.</summary>
    public static string Clip(string s)
    {
        var clean = new string(s.Where(c => !char.IsControl(c)).Take(MaxTextLength).ToArray());
        return clean;
    }
}
