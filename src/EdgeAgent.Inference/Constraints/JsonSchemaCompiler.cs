using System.Globalization;
using System.Text.Json;

namespace EdgeAgent.Inference.Constraints;

/// <summary>Limits that keep every generation finite (JSON Schema leaves these open).</summary>
public sealed record GrammarOptions
{
    /// <summary>Longest string when the schema gives no maxLength.</summary>
    public int MaxStringLength { get; init; } = 256;

    /// <summary>Longest array when the schema gives no maxItems.</summary>
    public int MaxItems { get; init; } = 16;

    /// <summary>Digits after the decimal point of a "number".</summary>
    public int MaxFractionDigits { get; init; } = 6;

    /// <summary>Consecutive whitespace characters allowed between tokens (0 = compact JSON only).</summary>
    public int MaxWhitespace { get; init; } = 1;
}

/// <summary>
/// Compiles a JSON Schema document into a <see cref="SchemaNode"/> grammar. Supported: <c>type</c> (one or a
/// list), <c>properties</c>/<c>required</c>, <c>items</c>/<c>minItems</c>/<c>maxItems</c>, <c>enum</c>,
/// <c>const</c>, <c>minimum</c>/<c>maximum</c> (and numeric <c>exclusiveMinimum</c>/<c>exclusiveMaximum</c> for
/// integers), <c>minLength</c>/<c>maxLength</c>, <c>anyOf</c>/<c>oneOf</c>. Annotations (title, description,
/// default, examples, $schema, $id, additionalProperties) are ignored: generated objects carry only declared
/// properties, which satisfies any additionalProperties.
/// </summary>
public static class JsonSchemaCompiler
{
    private static readonly HashSet<string> Ignored = new(StringComparer.Ordinal)
    {
        "title", "description", "default", "examples", "$schema", "$id", "$comment", "additionalProperties",
        "deprecated", "readOnly", "writeOnly",
    };

    /// <summary>Compiles schema text.</summary>
    /// <exception cref="JsonException">The text is not JSON.</exception>
    /// <exception cref="NotSupportedException">The schema uses a keyword outside the supported subset.</exception>
    /// <exception cref="ArgumentException">The schema is inconsistent (e.g. minimum above maximum).</exception>
    public static SchemaNode Compile(string schemaJson, GrammarOptions? options = null)
    {
        using var doc = JsonDocument.Parse(schemaJson);
        return Compile(doc.RootElement, options);
    }

    /// <inheritdoc cref="Compile(string, GrammarOptions?)"/>
    public static SchemaNode Compile(JsonElement schema, GrammarOptions? options = null) =>
        Node(schema, options ?? new GrammarOptions(), "#");

    private static SchemaNode Node(JsonElement s, GrammarOptions o, string path)
    {
        if (s.ValueKind != JsonValueKind.Object)
        {
            throw new NotSupportedException($"{path}: a schema must be an object");
        }
        foreach (var p in s.EnumerateObject())
        {
            if (!Ignored.Contains(p.Name) && !Known.Contains(p.Name))
            {
                throw new NotSupportedException($"{path}: the keyword '{p.Name}' is not supported");
            }
        }
        if (s.TryGetProperty("const", out var c))
        {
            return new LiteralNode([Canonical(c)]);
        }
        if (s.TryGetProperty("enum", out var e))
        {
            if (e.ValueKind != JsonValueKind.Array)
            {
                throw new NotSupportedException($"{path}: enum must be an array");
            }
            return new LiteralNode(e.EnumerateArray().Select(Canonical));
        }
        foreach (var key in new[] { "anyOf", "oneOf" })
        {
            if (s.TryGetProperty(key, out var alts))
            {
                if (alts.ValueKind != JsonValueKind.Array || alts.GetArrayLength() == 0)
                {
                    throw new NotSupportedException($"{path}: {key} must be a non-empty array");
                }
                return new AnyOfNode(alts.EnumerateArray().Select((a, i) => Node(a, o, $"{path}/{key}/{i}")).ToArray());
            }
        }
        if (!s.TryGetProperty("type", out var type))
        {
            throw new NotSupportedException($"{path}: give a type (or enum, const, anyOf)");
        }
        if (type.ValueKind == JsonValueKind.Array)
        {
            return new AnyOfNode(type.EnumerateArray().Select(t => Typed(t.GetString() ?? "", s, o, path)).ToArray());
        }
        return Typed(type.GetString() ?? "", s, o, path);
    }

    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "type", "properties", "required", "items", "minItems", "maxItems", "enum", "const", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "anyOf", "oneOf",
    };

    private static SchemaNode Typed(string type, JsonElement s, GrammarOptions o, string path)
    {
        switch (type)
        {
            case "object":
                var required = s.TryGetProperty("required", out var r) && r.ValueKind == JsonValueKind.Array
                    ? r.EnumerateArray().Select(x => x.GetString() ?? "").ToHashSet(StringComparer.Ordinal)
                    : [];
                var props = new List<PropertyNode>();
                if (s.TryGetProperty("properties", out var ps))
                {
                    foreach (var p in ps.EnumerateObject())
                    {
                        props.Add(new PropertyNode(p.Name, Node(p.Value, o, $"{path}/properties/{p.Name}"), required.Contains(p.Name)));
                    }
                }
                if (required.FirstOrDefault(n => props.All(p => p.Name != n)) is { } missing)
                {
                    throw new ArgumentException($"{path}: required property '{missing}' is not declared");
                }
                return new ObjectNode(props);
            case "array":
                if (!s.TryGetProperty("items", out var items))
                {
                    throw new NotSupportedException($"{path}: an array needs an items schema");
                }
                int minItems = Int(s, "minItems") ?? 0, maxItems = Int(s, "maxItems") ?? Math.Max(minItems, o.MaxItems);
                Check(minItems <= maxItems, path, "minItems is above maxItems");
                return new ArrayNode(Node(items, o, path + "/items"), minItems, maxItems);
            case "string":
                int minLength = Int(s, "minLength") ?? 0, maxLength = Int(s, "maxLength") ?? Math.Max(minLength, o.MaxStringLength);
                Check(minLength <= maxLength, path, "minLength is above maxLength");
                return new StringNode(minLength, maxLength);
            case "integer":
                const long limit = 999_999_999_999_999_999;
                long min = -limit, max = limit;
                if (Dec(s, "minimum") is { } mn) { min = (long)Math.Max(Math.Ceiling(mn), -limit); }
                if (Dec(s, "maximum") is { } mx) { max = (long)Math.Min(Math.Floor(mx), limit); }
                if (Dec(s, "exclusiveMinimum") is { } xmn) { min = Math.Max(min, (long)Math.Floor(xmn) + 1); }
                if (Dec(s, "exclusiveMaximum") is { } xmx) { max = Math.Min(max, (long)Math.Ceiling(xmx) - 1); }
                Check(min <= max, path, "the range holds no integer");
                return new IntegerNode(min, max);
            case "number":
                if (s.TryGetProperty("exclusiveMinimum", out _) || s.TryGetProperty("exclusiveMaximum", out _))
                {
                    throw new NotSupportedException($"{path}: exclusiveMinimum/exclusiveMaximum are supported for integers only");
                }
                decimal nmin = Dec(s, "minimum") ?? -1e15m, nmax = Dec(s, "maximum") ?? 1e15m;
                Check(nmin <= nmax, path, "minimum is above maximum");
                return new NumberNode(nmin, nmax, o.MaxFractionDigits);
            case "boolean":
                return new LiteralNode(["true", "false"]);
            case "null":
                return new LiteralNode(["null"]);
            default:
                throw new NotSupportedException($"{path}: type '{type}' is not supported");
        }
    }

    /// <summary>Compact JSON text of a value (the form the generator emits).</summary>
    private static string Canonical(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Number => v.TryGetDecimal(out var d) ? d.ToString(CultureInfo.InvariantCulture) : v.GetRawText(),
        _ => JsonSerializer.Serialize(v, JsonText.Options),
    };

    private static int? Int(JsonElement s, string name) =>
        s.TryGetProperty(name, out var v) ? (v.TryGetInt32(out int i) && i >= 0 ? i : throw new NotSupportedException($"{name} must be a non-negative integer")) : null;

    private static decimal? Dec(JsonElement s, string name) =>
        s.TryGetProperty(name, out var v) ? (v.TryGetDecimal(out var d) ? d : throw new NotSupportedException($"{name} must be a number")) : null;

    private static void Check(bool ok, string path, string message)
    {
        if (!ok)
        {
            throw new ArgumentException($"{path}: {message}");
        }
    }
}
