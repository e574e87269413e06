using System.Globalization;
using System.Text;

namespace EdgeAgent.Inference.ChatTemplates;

/// <summary>
/// Python's <c>json.dumps</c> as Hugging Face's <c>tojson</c> filter calls it:
/// <c>json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)</c>.
/// </summary>
/// <remarks>
/// Default separators are <c>", "</c> and <c>": "</c>, or <c>","</c> and <c>": "</c> when an indent
/// is given; dict keys keep insertion order; floats print as Python's <c>repr</c>; non-ASCII text is
/// kept unless <c>ensure_ascii</c> is true; control characters become lowercase <c>\u00XX</c>.
/// </remarks>
internal sealed class PyJson
{
    private readonly StringBuilder _sb = new();
    private readonly Renderer _renderer;
    private readonly string? _indent;
    private readonly string _itemSep;
    private readonly string _keySep;
    private readonly bool _sortKeys;
    private readonly bool _ensureAscii;

    private PyJson(Renderer renderer, string? indent, string itemSep, string keySep, bool sortKeys, bool ensureAscii)
    {
        _renderer = renderer;
        _indent = indent;
        _itemSep = itemSep;
        _keySep = keySep;
        _sortKeys = sortKeys;
        _ensureAscii = ensureAscii;
    }

    /// <summary>Serialises a value; <paramref name="indent"/> is null, an int, or a string.</summary>
    public static string Dumps(Renderer renderer, object? value, object? indent, object? separators, bool sortKeys, bool ensureAscii)
    {
        string? indentText = indent switch
        {
            null => null,
            string s => s,
            long or bool => new string(' ', (int)Math.Clamp(Values.AsLong(indent), 0, 64)),
            _ => throw Values.TypeError($"tojson indent must be an int or a string, not {Values.TypeName(indent)}"),
        };
        string itemSep = indentText is null ? ", " : ",";
        string keySep = ": ";
        if (separators is IReadOnlyList<object?> { Count: 2 } seps && seps[0] is string a && seps[1] is string b)
        {
            itemSep = a;
            keySep = b;
        }
        else if (separators is not null)
        {
            throw Values.TypeError("tojson separators must be a pair of strings");
        }

        var writer = new PyJson(renderer, indentText, itemSep, keySep, sortKeys, ensureAscii);
        writer.Write(value, 0);
        renderer.Charge(writer._sb.Length);
        return writer._sb.ToString();
    }

    private void Write(object? v, int level)
    {
        Values.EnsureStack();
        switch (v)
        {
            case null:
                _sb.Append("null");
                break;
            case bool b:
                _sb.Append(b ? "true" : "false");
                break;
            case long l:
                _sb.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                _sb.Append(FormatFloat(d));
                break;
            case string s:
                WriteString(s);
                break;
            case IReadOnlyList<object?> list:
                WriteList(list, level);
                break;
            case PyDict dict:
                WriteDict(dict, level);
                break;
            default:
                throw Values.TypeError($"Object of type {Values.TypeName(v)} is not JSON serializable");
        }

        if (_sb.Length > _renderer.MaxStringLength)
        {
            throw new ChatTemplateException("tojson output exceeds the output size limit");
        }
    }

    private static string FormatFloat(double d) =>
        double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : PyText.FormatFloat(d);

    private void NewLine(int level)
    {
        if (_indent is null)
        {
            return;
        }

        _sb.Append('\n');
        for (int i = 0; i < level; i++)
        {
            _sb.Append(_indent);
        }
    }

    private void WriteList(IReadOnlyList<object?> list, int level)
    {
        if (list.Count == 0)
        {
            _sb.Append("[]");
            return;
        }

        _sb.Append('[');
        for (int i = 0; i < list.Count; i++)
        {
            if (i > 0)
            {
                _sb.Append(_itemSep);
            }

            NewLine(level + 1);
            Write(list[i], level + 1);
        }

        NewLine(level);
        _sb.Append(']');
    }

    private void WriteDict(PyDict dict, int level)
    {
        if (dict.Count == 0)
        {
            _sb.Append("{}");
            return;
        }

        var items = dict.Items.Select(kv => (Key: KeyText(kv.Key), kv.Value)).ToList();
        if (_sortKeys)
        {
            items.Sort((x, y) => PyText.CompareCodePoints(x.Key, y.Key));
        }

        _sb.Append('{');
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0)
            {
                _sb.Append(_itemSep);
            }

            NewLine(level + 1);
            WriteString(items[i].Key);
            _sb.Append(_keySep);
            Write(items[i].Value, level + 1);
        }

        NewLine(level);
        _sb.Append('}');
    }

    /// <summary>json.dumps converts non-string keys: True -> "true", 1 -> "1", 1.5 -> "1.5".</summary>
    private static string KeyText(object key) => key switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FormatFloat(d),
        _ => throw Values.TypeError($"keys must be str, int, float, bool or None, not {Values.TypeName(key)}"),
    };

    private void WriteString(string s)
    {
        _sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': _sb.Append("\\\""); break;
                case '\\': _sb.Append("\\\\"); break;
                case '\n': _sb.Append("\\n"); break;
                case '\r': _sb.Append("\\r"); break;
                case '\t': _sb.Append("\\t"); break;
                case '\b': _sb.Append("\\b"); break;
                case '\f': _sb.Append("\\f"); break;
                default:
                    if (c < ' ' || (_ensureAscii && c > '\x7f'))
                    {
                        // Python writes UTF-16 units (surrogate pairs stay as two escapes), lowercase hex.
                        _sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        _sb.Append(c);
                    }

                    break;
            }
        }

        _sb.Append('"');
    }
}
