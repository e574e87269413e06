using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeAgent.Inference.ChatTemplates;

/// <summary>Converts caller-supplied .NET values into template values (Python-like objects).</summary>
internal static class ValueConverter
{
    /// <summary>Deepest nesting accepted from callers; tool schemas are a handful of levels deep.</summary>
    private const int MaxDepth = 64;

    public static PyDict FromMessage(ChatMessage m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var d = new PyDict();
        d.Set("role", m.Role ?? throw new ArgumentException("A chat message has a null Role.", nameof(m)));
        d.Set("content", m.Content);
        if (m.ToolCalls is not null)
        {
            var calls = new List<object?>(m.ToolCalls.Count);
            foreach (var call in m.ToolCalls)
            {
                calls.Add(FromToolCall(call));
            }

            d.Set("tool_calls", calls);
        }

        if (m.ToolCallId is not null)
        {
            d.Set("tool_call_id", m.ToolCallId);
        }

        if (m.Name is not null)
        {
            d.Set("name", m.Name);
        }

        if (m.ExtraFields is not null)
        {
            foreach (var kv in m.ExtraFields)
            {
                d.Set(kv.Key, FromClr(kv.Value, 1));
            }
        }

        return d;
    }

    private static PyDict FromToolCall(ChatToolCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var function = new PyDict();
        function.Set("name", call.Name);
        function.Set("arguments", FromClr(call.Arguments, 2));
        var d = new PyDict();
        if (call.Id is not null)
        {
            d.Set("id", call.Id);
        }

        d.Set("type", call.Type);
        d.Set("function", function);
        return d;
    }

    /// <summary>Converts a JSON-like .NET value; throws <see cref="ArgumentException"/> for other types or excessive nesting.</summary>
    public static object? FromClr(object? value, int depth = 0)
    {
        if (depth > MaxDepth)
        {
            throw new ArgumentException($"A template variable is nested more than {MaxDepth} levels deep.");
        }

        switch (value)
        {
            case null:
                return null;
            case string s:
                return s;
            case bool b:
                return b;
            case char c:
                return c.ToString();
            case sbyte or byte or short or ushort or int or uint or long:
                return Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
            case ulong ul:
                return ul <= long.MaxValue ? (long)ul : (double)ul;
            case float or double or decimal:
                return Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
            case JsonElement e:
                return FromJson(e, depth);
            case JsonNode node:
                using (var doc = JsonDocument.Parse(node.ToJsonString()))
                {
                    return FromJson(doc.RootElement, depth);
                }

            case ChatToolCall call:
                return FromToolCall(call);
            case ChatMessage message:
                return FromMessage(message);
            case IDictionary dict:
                var d = new PyDict();
                foreach (DictionaryEntry entry in dict)
                {
                    d.Set(Key(entry.Key), FromClr(entry.Value, depth + 1));
                }

                return d;
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                var pd = new PyDict();
                foreach (var kv in pairs)
                {
                    pd.Set(kv.Key, FromClr(kv.Value, depth + 1));
                }

                return pd;
            case IEnumerable items:
                var list = new List<object?>();
                foreach (var item in items)
                {
                    list.Add(FromClr(item, depth + 1));
                }

                return list;
            default:
                throw new ArgumentException($"Values of type {value.GetType()} cannot be passed to a chat template; use JSON-like values.");
        }
    }

    private static object Key(object key) => FromClr(key, MaxDepth) switch
    {
        string or long or double or bool => FromClr(key, MaxDepth)!,
        _ => throw new ArgumentException($"Dictionary keys of type {key.GetType()} cannot be passed to a chat template."),
    };

    private static object? FromJson(JsonElement e, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new ArgumentException($"A template variable is nested more than {MaxDepth} levels deep.");
        }

        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var d = new PyDict();
                foreach (var p in e.EnumerateObject())
                {
                    d.Set(p.Name, FromJson(p.Value, depth + 1));
                }

                return d;
            case JsonValueKind.Array:
                var list = new List<object?>();
                foreach (var item in e.EnumerateArray())
                {
                    list.Add(FromJson(item, depth + 1));
                }

                return list;
            case JsonValueKind.String:
                return e.GetString();
            case JsonValueKind.Number:
                // Python's json keeps integers as int and anything with '.', 'e' as float.
                return e.TryGetInt64(out long l) ? l : e.GetDouble();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                return null;
        }
    }
}
