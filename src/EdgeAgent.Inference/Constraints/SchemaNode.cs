using System.Text;

namespace EdgeAgent.Inference.Constraints;

/// <summary>
/// One node of the compiled grammar: the subset of JSON Schema that tool calls need. Each node says which
/// JSON texts it accepts; <see cref="JsonRecognizer"/> runs them as a byte-level pushdown automaton.
/// Generated text is canonical: no exponents, object properties in declared order, bounded whitespace.
/// </summary>
public abstract class SchemaNode
{
    private protected SchemaNode() { }
}

/// <summary>An object with declared properties, emitted in declared order; optional ones may be skipped.</summary>
public sealed class ObjectNode : SchemaNode
{
    public ObjectNode(IReadOnlyList<PropertyNode> properties)
    {
        Properties = properties;
        if (properties.Select(p => p.Name).Distinct(StringComparer.Ordinal).Count() != properties.Count)
        {
            throw new ArgumentException("an object declares the same property twice");
        }
        // KeyTables[i]: the keys that may come next when properties [0, i) are done — every property from i up
        // to and including the first required one — sorted by their JSON bytes so a key prefix is a range.
        KeyTables = new KeyTable[properties.Count + 1];
        FirstRequiredFrom = new int[properties.Count + 1];
        int firstRequired = properties.Count;
        for (int i = properties.Count; i >= 0; i--)
        {
            if (i < properties.Count && properties[i].Required)
            {
                firstRequired = i;
            }
            FirstRequiredFrom[i] = firstRequired;
            int end = Math.Min(firstRequired, properties.Count - 1);
            var keys = new List<(byte[] Key, int Index)>();
            for (int j = i; j <= end && j < properties.Count; j++)
            {
                keys.Add((properties[j].KeyLiteral, j));
            }
            keys.Sort((a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
            KeyTables[i] = new KeyTable(keys.Select(k => k.Key).ToArray(), keys.Select(k => k.Index).ToArray());
        }
    }

    public IReadOnlyList<PropertyNode> Properties { get; }

    internal KeyTable[] KeyTables { get; }

    /// <summary>Index of the first required property at or after i (Count when none): the object may close
    /// after property i-1 only when this is Count.</summary>
    internal int[] FirstRequiredFrom { get; }

    internal sealed record KeyTable(byte[][] Keys, int[] PropertyIndex);
}

/// <summary>A declared property: its name, JSON-encoded key (with quotes) and value schema.</summary>
public sealed class PropertyNode(string name, SchemaNode value, bool required)
{
    public string Name { get; } = name;
    public SchemaNode Value { get; } = value;
    public bool Required { get; } = required;
    internal byte[] KeyLiteral { get; } = Encoding.UTF8.GetBytes(JsonText.Quote(name));
}

/// <summary>An array of items, between <see cref="MinItems"/> and <see cref="MaxItems"/> long.</summary>
public sealed class ArrayNode(SchemaNode items, int minItems, int maxItems) : SchemaNode
{
    public SchemaNode Items { get; } = items;
    public int MinItems { get; } = minItems;
    public int MaxItems { get; } = maxItems;
}

/// <summary>Any string of <see cref="MinLength"/> to <see cref="MaxLength"/> code points.</summary>
public sealed class StringNode(int minLength, int maxLength) : SchemaNode
{
    public int MinLength { get; } = minLength;
    public int MaxLength { get; } = maxLength;
}

/// <summary>One of a fixed set of JSON texts (enum, const, true/false/null), matched byte by byte.</summary>
public sealed class LiteralNode : SchemaNode
{
    public LiteralNode(IEnumerable<string> jsonTexts)
    {
        Literals = jsonTexts.Select(Encoding.UTF8.GetBytes).Distinct(ByteArrayComparer.Instance).ToArray();
        if (Literals.Length == 0)
        {
            throw new ArgumentException("an enum must list at least one value");
        }
        Array.Sort(Literals, (a, b) => a.AsSpan().SequenceCompareTo(b));
    }

    /// <summary>The accepted texts, sorted by bytes (so the texts sharing a prefix form a range).</summary>
    public byte[][] Literals { get; }

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(byte[] obj)
        {
            var h = new HashCode();
            h.AddBytes(obj);
            return h.ToHashCode();
        }
    }
}

/// <summary>An integer in [<see cref="Minimum"/>, <see cref="Maximum"/>] (at most 18 digits).</summary>
public sealed class IntegerNode(long minimum, long maximum) : SchemaNode
{
    public long Minimum { get; } = minimum;
    public long Maximum { get; } = maximum;
}

/// <summary>A decimal number in [<see cref="Minimum"/>, <see cref="Maximum"/>] with at most
/// <see cref="MaxFractionDigits"/> digits after the point and no exponent.</summary>
public sealed class NumberNode(decimal minimum, decimal maximum, int maxFractionDigits) : SchemaNode
{
    public decimal Minimum { get; } = minimum;
    public decimal Maximum { get; } = maximum;
    public int MaxFractionDigits { get; } = maxFractionDigits;
}

/// <summary>Any of several schemas (anyOf, oneOf, a list of types); alternatives are followed in parallel.</summary>
public sealed class AnyOfNode(IReadOnlyList<SchemaNode> options) : SchemaNode
{
    public IReadOnlyList<SchemaNode> Options { get; } = options;
}

/// <summary>How the grammar writes JSON text: compact, non-ASCII kept as UTF-8 (still escaping quotes, backslashes
/// and control characters).</summary>
public static class JsonText
{
    public static readonly System.Text.Json.JsonSerializerOptions Options = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>A JSON string literal for <paramref name="s"/> as the grammar writes one: quotes, backslashes and
    /// control characters escaped, everything else as itself — a character outside the BMP too (a serializer would
    /// write it as a <c>\uD83D\uDE00</c> pair, which the grammar does not accept); a lone surrogate, which is not
    /// text, becomes U+FFFD.</summary>
    public static string Quote(string s)
    {
        var sb = new System.Text.StringBuilder(s.Length + 2).Append('"');
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < ' ')
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    }
                    else if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                    {
                        sb.Append(c).Append(s[++i]);
                    }
                    else if (char.IsSurrogate(c))
                    {
                        sb.Append('\uFFFD');
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>Compact JSON for <paramref name="node"/> with strings written by <see cref="Quote"/>.</summary>
    public static string Write(System.Text.Json.Nodes.JsonNode? node)
    {
        var sb = new System.Text.StringBuilder();
        Write(node, sb);
        return sb.ToString();
    }

    private static void Write(System.Text.Json.Nodes.JsonNode? node, System.Text.StringBuilder sb)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case System.Text.Json.Nodes.JsonObject o:
                sb.Append('{');
                bool first = true;
                foreach (var (key, value) in o)
                {
                    sb.Append(first ? "" : ",").Append(Quote(key)).Append(':');
                    Write(value, sb);
                    first = false;
                }
                sb.Append('}');
                break;
            case System.Text.Json.Nodes.JsonArray a:
                sb.Append('[');
                for (int i = 0; i < a.Count; i++)
                {
                    sb.Append(i > 0 ? "," : "");
                    Write(a[i], sb);
                }
                sb.Append(']');
                break;
            case System.Text.Json.Nodes.JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String:
                sb.Append(Quote(v.GetValue<string>()));
                break;
            default:
                sb.Append(node.ToJsonString(Options));
                break;
        }
    }
}
