using System.Globalization;
using System.Text;

namespace EdgeAgent.Inference.ChatTemplates;

/// <summary>
/// jinja2's built-in filters that chat templates use, with jinja2 3.x semantics, plus Hugging
/// Face's <c>tojson</c> override (<c>json.dumps</c> with <c>ensure_ascii=False</c>).
/// </summary>
internal static class Filters
{
    private delegate object? Filter(Renderer r, object? value, CallArgs args);

    private static readonly Dictionary<string, Filter> Table = new(StringComparer.Ordinal)
    {
        ["trim"] = (_, v, a) => PyText.Strip(Values.ToStr(v), a.Get(0, "chars", null) is string c ? c : null),
        ["length"] = (_, v, _) => Values.Length(v),
        ["count"] = (_, v, _) => Values.Length(v),
        ["upper"] = (_, v, _) => Values.ToStr(v).ToUpperInvariant(),
        ["lower"] = (_, v, _) => Values.ToStr(v).ToLowerInvariant(),
        ["title"] = (_, v, _) => PyText.JinjaTitle(Values.ToStr(v)),
        ["capitalize"] = (_, v, _) => PyText.Capitalize(Values.ToStr(v)),
        ["first"] = (_, v, _) => Values.Iterate(v) is { Count: > 0 } items ? items[0] : new Undefined("No first item, sequence was empty."),
        ["last"] = (_, v, _) => Values.Iterate(v) is { Count: > 0 } items ? items[^1] : new Undefined("No last item, sequence was empty."),
        ["join"] = Join,
        ["default"] = Default,
        ["d"] = Default,
        ["replace"] = (r, v, a) => Methods.Replace(r, Values.ToStr(v), Values.ToStr(a.Get(0, "old", "")), Values.ToStr(a.Get(1, "new", "")), a.Get(2, "count", null) is { } n ? Values.AsLong(n) : -1),
        ["tojson"] = (r, v, a) => PyJson.Dumps(
            r,
            v,
            indent: a.Get(1, "indent", null),
            separators: a.Get(2, "separators", null),
            sortKeys: Values.Truthy(a.Get(3, "sort_keys", false)),
            ensureAscii: Values.Truthy(a.Get(0, "ensure_ascii", false))),
        ["string"] = (_, v, _) => Values.ToStr(v),
        ["int"] = ToInt,
        ["float"] = ToFloat,
        ["list"] = (r, v, _) => Charged(r, Values.Iterate(v).ToList()),
        ["items"] = (r, v, _) => v switch
        {
            Undefined => new List<object?>(),
            PyDict d => Charged(r, d.Items.Select(kv => (object?)new object?[] { kv.Key, kv.Value }).ToList()),
            _ => throw Values.TypeError("Can only get item pairs from a mapping."),
        },
        ["map"] = Map,
        ["select"] = (r, v, a) => SelectOrReject(r, v, a, lookupAttr: false, keep: true),
        ["reject"] = (r, v, a) => SelectOrReject(r, v, a, lookupAttr: false, keep: false),
        ["selectattr"] = (r, v, a) => SelectOrReject(r, v, a, lookupAttr: true, keep: true),
        ["rejectattr"] = (r, v, a) => SelectOrReject(r, v, a, lookupAttr: true, keep: false),
        ["safe"] = (_, v, _) => v,
        ["escape"] = (_, v, _) => Escape(Values.ToStr(v)),
        ["e"] = (_, v, _) => Escape(Values.ToStr(v)),
        ["indent"] = Indent,
        ["round"] = Round,
        ["unique"] = Unique,
        ["abs"] = (_, v, _) => v switch
        {
            long l => l == long.MinValue ? throw new ChatTemplateException("OverflowError: abs overflow") : (object)Math.Abs(l),
            double d => (object)Math.Abs(d),
            bool b => (object)(b ? 1L : 0L),
            _ => throw Values.TypeError($"bad operand type for abs(): '{Values.TypeName(v)}'"),
        },
        ["sum"] = Sum,
        ["min"] = (r, v, a) => MinMax(v, a, max: false),
        ["max"] = (r, v, a) => MinMax(v, a, max: true),
        ["sort"] = Sort,
        ["reverse"] = (r, v, _) => v is string s
            ? PyText.Slice(s, null, null, -1)
            : Charged(r, Values.Iterate(v).Reverse().ToList()),
        ["attr"] = (_, v, a) => Values.GetAttr(v, Values.ToStr(a.Get(0, "name", ""))),
        ["dictsort"] = DictSort,
        ["wordcount"] = (_, v, _) => (long)PyText.Split(Values.ToStr(v), null, -1).Count,
        ["format"] = (r, v, a) => a.Positional.Count > 0 && a.Keywords.Count > 0
            ? throw new ChatTemplateException("FilterArgumentError: can't handle positional and keyword arguments at the same time")
            : PyFormat.Percent(r, Values.ToStr(v), a.Keywords.Count > 0 ? KeywordDict(a) : a.Positional.ToArray()),
        ["center"] = (_, v, a) => Center(Values.ToStr(v), (int)Values.AsLong(a.Get(0, "width", 80L))),
    };

    public static bool IsKnown(string name) => Table.ContainsKey(name);

    public static object? Apply(Renderer r, string name, object? value, CallArgs args)
    {
        if (!Table.TryGetValue(name, out var filter))
        {
            throw new ChatTemplateException($"No filter named '{name}'.");
        }

        return filter(r, value, args);
    }

    private static PyDict KeywordDict(CallArgs a)
    {
        var d = new PyDict();
        foreach (var kv in a.Keywords)
        {
            d.Set(kv.Key, kv.Value);
        }

        return d;
    }

    private static List<object?> Charged(Renderer r, List<object?> list)
    {
        r.Charge(list.Count);
        return list;
    }

    private static object? Default(Renderer r, object? v, CallArgs a)
    {
        var fallback = a.Get(0, "default_value", "");
        bool boolean = Values.Truthy(a.Get(1, "boolean", false));
        return v is Undefined || (boolean && !Values.Truthy(v)) ? fallback : v;
    }

    private static object? Join(Renderer r, object? v, CallArgs a)
    {
        string sep = Values.ToStr(a.Get(0, "d", ""));
        var attribute = a.Get(1, "attribute", null);
        var items = Values.Iterate(v);
        var sb = new StringBuilder();
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(sep);
            }

            sb.Append(Values.ToStr(attribute is null ? items[i] : AttrGetter(items[i], attribute, null)));
            if (sb.Length > r.MaxStringLength)
            {
                throw new ChatTemplateException("join result exceeds the output size limit");
            }
        }

        r.Charge(sb.Length);
        return sb.ToString();
    }

    /// <summary>jinja2's <c>make_attrgetter</c>: dotted path of item lookups, integer parts index lists.</summary>
    private static object? AttrGetter(object? item, object? attribute, object? defaultValue)
    {
        var parts = attribute is string s
            ? s.Split('.').Select(p => long.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? (object)n : p)
            : [attribute!];
        foreach (var part in parts)
        {
            item = Values.GetItem(item, part);
            if (defaultValue is not null && item is Undefined)
            {
                item = defaultValue;
            }
        }

        return item;
    }

    private static object? ToInt(Renderer r, object? v, CallArgs a)
    {
        var fallback = a.Get(0, "default", 0L);
        long numberBase = Values.AsLong(a.Get(1, "base", 10L));
        switch (v)
        {
            case long or bool:
                return Values.AsLong(v);
            case double d:
                return double.IsFinite(d) && Math.Abs(d) < 9.2e18 ? (long)Math.Truncate(d) : fallback;
            case string s:
                string t = PyText.Strip(s, null).Replace("_", "", StringComparison.Ordinal);
                if (numberBase == 10 && long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l))
                {
                    return l;
                }

                if (numberBase == 16 && long.TryParse(t.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? t[2..] : t, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long h))
                {
                    return h;
                }

                // jinja2's quirk: "42.23"|int is 42, via float().
                return ParseFloat(s) is double f && double.IsFinite(f) && Math.Abs(f) < 9.2e18 ? (long)Math.Truncate(f) : fallback;
            default:
                return fallback;
        }
    }

    private static double? ParseFloat(string s)
    {
        string t = PyText.Strip(s, null).Replace("_", "", StringComparison.Ordinal);
        string lower = t.ToLowerInvariant();
        if (lower is "nan" or "+nan" or "-nan")
        {
            return double.NaN;
        }

        if (lower is "inf" or "+inf" or "infinity" or "+infinity")
        {
            return double.PositiveInfinity;
        }

        if (lower is "-inf" or "-infinity")
        {
            return double.NegativeInfinity;
        }

        return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : null;
    }

    private static object? ToFloat(Renderer r, object? v, CallArgs a) => v switch
    {
        double d => d,
        long or bool => Values.AsDouble(v),
        string s when ParseFloat(s) is double d => d,
        _ => a.Get(0, "default", 0.0),
    };

    private static object? Map(Renderer r, object? v, CallArgs a)
    {
        var result = new List<object?>();
        if (!Values.Truthy(v))
        {
            return result;
        }

        var items = Values.Iterate(v);
        if (a.Positional.Count == 0 && a.Has(-1, "attribute"))
        {
            var attribute = a.Get(-1, "attribute", null);
            var fallback = a.Get(-1, "default", null);
            foreach (var item in items)
            {
                result.Add(AttrGetter(item, attribute, fallback));
            }
        }
        else
        {
            string name = Values.ToStr(a.Get(0, "\0", ""));
            var rest = new CallArgs(a.Positional.Skip(1).ToList(), a.Keywords);
            foreach (var item in items)
            {
                result.Add(Apply(r, name, item, rest));
            }
        }

        return Charged(r, result);
    }

    private static object? SelectOrReject(Renderer r, object? v, CallArgs a, bool lookupAttr, bool keep)
    {
        var result = new List<object?>();
        if (!Values.Truthy(v))
        {
            return result;
        }

        int next = 0;
        object? attribute = lookupAttr ? a.Get(next++, "\0", null) : null;
        string? test = a.Positional.Count > next ? Values.ToStr(a.Positional[next]) : null;
        var testArgs = new CallArgs(a.Positional.Skip(next + 1).ToList(), a.Keywords);
        foreach (var item in Values.Iterate(v))
        {
            var subject = lookupAttr ? AttrGetter(item, attribute, null) : item;
            bool passed = test is null ? Values.Truthy(subject) : TestFunctions.Apply(r, test, subject, testArgs);
            if (passed == keep)
            {
                result.Add(item);
            }
        }

        return Charged(r, result);
    }

    private static string Escape(string s) => s
        .Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal)
        .Replace("\"", "&#34;", StringComparison.Ordinal)
        .Replace("'", "&#39;", StringComparison.Ordinal);

    /// <summary>jinja2 3.x <c>do_indent</c>: indents every line but the first (and blank lines only when asked).</summary>
    private static object? Indent(Renderer r, object? v, CallArgs a)
    {
        var width = a.Get(0, "width", 4L);
        string indent = width is string w ? w : new string(' ', (int)Math.Clamp(Values.AsLong(width), 0, 256));
        bool first = Values.Truthy(a.Get(1, "first", false));
        bool blank = Values.Truthy(a.Get(2, "blank", false));
        var lines = PyText.SplitLines(Values.ToStr(v) + "\n");
        var sb = new StringBuilder();
        if (blank)
        {
            sb.AppendJoin("\n" + indent, lines);
        }
        else
        {
            sb.Append(lines[0]);
            for (int i = 1; i < lines.Count; i++)
            {
                sb.Append('\n');
                if (lines[i].Length > 0)
                {
                    sb.Append(indent);
                }

                sb.Append(lines[i]);
            }
        }

        string result = first ? indent + sb : sb.ToString();
        r.Charge(result.Length);
        return result;
    }

    private static object? Round(Renderer r, object? v, CallArgs a)
    {
        long precision = Values.AsLong(a.Get(0, "precision", 0L));
        string method = Values.ToStr(a.Get(1, "method", "common"));
        if (method is not ("common" or "ceil" or "floor"))
        {
            throw new ChatTemplateException("FilterArgumentError: method must be common, ceil or floor");
        }

        if (method == "common" && Values.IsIntegral(v))
        {
            return Values.AsLong(v);
        }

        double d = Values.AsDouble(v);
        double scale = Math.Pow(10, precision);
        return method switch
        {
            "ceil" => Math.Ceiling(d * scale) / scale,
            "floor" => Math.Floor(d * scale) / scale,
            _ => precision is >= 0 and <= 15 ? Math.Round(d, (int)precision, MidpointRounding.ToEven) : Math.Round(d * scale, MidpointRounding.ToEven) / scale,
        };
    }

    private static object? SortKey(object? item, object? attribute, bool caseSensitive)
    {
        var key = attribute is null ? item : AttrGetter(item, attribute, null);
        return !caseSensitive && key is string s ? s.ToLowerInvariant() : key;
    }

    private static object? Unique(Renderer r, object? v, CallArgs a)
    {
        bool caseSensitive = Values.Truthy(a.Get(0, "case_sensitive", false));
        var attribute = a.Get(1, "attribute", null);
        var seen = new List<object?>();
        var result = new List<object?>();
        foreach (var item in Values.Iterate(v))
        {
            var key = SortKey(item, attribute, caseSensitive);
            if (!seen.Any(k => Values.PyEquals(k, key)))
            {
                seen.Add(key);
                result.Add(item);
            }
        }

        return Charged(r, result);
    }

    private static object? Sum(Renderer r, object? v, CallArgs a)
    {
        var attribute = a.Get(0, "attribute", null);
        object? total = a.Get(1, "start", 0L);
        foreach (var item in Values.Iterate(v))
        {
            total = Values.Binary(r, BinaryOp.Add, total, attribute is null ? item : AttrGetter(item, attribute, null));
        }

        return total;
    }

    private static object? MinMax(object? v, CallArgs a, bool max)
    {
        bool caseSensitive = Values.Truthy(a.Get(0, "case_sensitive", false));
        var attribute = a.Get(1, "attribute", null);
        var items = Values.Iterate(v);
        if (items.Count == 0)
        {
            return new Undefined($"No aggregated item, sequence was empty.");
        }

        var best = items[0];
        foreach (var item in items.Skip(1))
        {
            int c = Values.Compare(SortKey(item, attribute, caseSensitive), SortKey(best, attribute, caseSensitive), max ? ">" : "<");
            if (max ? c > 0 : c < 0)
            {
                best = item;
            }
        }

        return best;
    }

    private static object? Sort(Renderer r, object? v, CallArgs a)
    {
        bool reverse = Values.Truthy(a.Get(0, "reverse", false));
        bool caseSensitive = Values.Truthy(a.Get(1, "case_sensitive", false));
        var attribute = a.Get(2, "attribute", null);
        var keyed = Values.Iterate(v).Select((item, i) => (Key: SortKey(item, attribute, caseSensitive), Item: item, Index: i)).ToList();

        // Stable, like Python's sorted; reverse keeps equal items in their original order.
        keyed.Sort((x, y) =>
        {
            int c = Values.Compare(x.Key, y.Key, "<");
            return c != 0 ? (reverse ? -c : c) : x.Index.CompareTo(y.Index);
        });
        return Charged(r, keyed.Select(k => k.Item).ToList());
    }

    private static object? DictSort(Renderer r, object? v, CallArgs a)
    {
        if (v is not PyDict d)
        {
            throw Values.TypeError("dictsort needs a mapping");
        }

        bool caseSensitive = Values.Truthy(a.Get(0, "case_sensitive", false));
        bool byValue = Values.ToStr(a.Get(1, "by", "key")) == "value";
        bool reverse = Values.Truthy(a.Get(2, "reverse", false));
        var pairs = d.Items.Select((kv, i) => (Pair: new object?[] { kv.Key, kv.Value }, Index: i)).ToList();
        pairs.Sort((x, y) =>
        {
            int c = Values.Compare(SortKey(x.Pair[byValue ? 1 : 0], null, caseSensitive), SortKey(y.Pair[byValue ? 1 : 0], null, caseSensitive), "<");
            return c != 0 ? (reverse ? -c : c) : x.Index.CompareTo(y.Index);
        });
        return Charged(r, pairs.Select(p => (object?)p.Pair).ToList());
    }

    private static string Center(string s, int width)
    {
        int total = Math.Min(width, 4096) - s.Length;
        if (total <= 0)
        {
            return s;
        }

        // Python's str.center puts the odd extra space on the right when the string length is even.
        int left = (total / 2) + (total & width & 1);
        return new string(' ', left) + s + new string(' ', total - left);
    }
}
