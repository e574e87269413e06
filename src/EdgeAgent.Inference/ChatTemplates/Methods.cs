using System.Text;

namespace EdgeAgent.Inference.ChatTemplates;

/// <summary>
/// Python methods templates call on values (<c>content.strip()</c>, <c>message.get('x')</c>, ...).
/// Methods that would mutate a list or dict are refused, as in Hugging Face's
/// <c>ImmutableSandboxedEnvironment</c>.
/// </summary>
internal static class Methods
{
    private static readonly HashSet<string> ListMutators = new(StringComparer.Ordinal)
    {
        "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
    };

    private static readonly HashSet<string> DictMutators = new(StringComparer.Ordinal)
    {
        "update", "pop", "popitem", "setdefault", "clear",
    };

    /// <summary>Returns the bound method <paramref name="name"/> of <paramref name="obj"/>, or null if it has none.</summary>
    public static BuiltinFunction? TryBind(object? obj, string name)
    {
        Func<Renderer, CallArgs, object?>? body = obj switch
        {
            string s => StringMethod(s, name),
            PyDict d => DictMethod(d, name),
            IReadOnlyList<object?> list => ListMethod(list, name, obj is object?[]),
            _ => null,
        };
        return body is null ? null : new BuiltinFunction($"{Values.TypeName(obj)}.{name}", body);
    }

    private static Func<Renderer, CallArgs, object?> Unsafe(string type, string name) =>
        (_, _) => throw new ChatTemplateException($"SecurityError: access to attribute '{name}' of '{type}' object is unsafe.");

    private static string? OptStr(object? v, string what) => v switch
    {
        null => null,
        string s => s,
        _ => throw Values.TypeError($"{what} arg must be None or str"),
    };

    private static string Str(object? v, string what) =>
        v as string ?? throw Values.TypeError($"{what} must be str, not {Values.TypeName(v)}");

    private static Func<Renderer, CallArgs, object?>? StringMethod(string s, string name) => name switch
    {
        "strip" => (_, a) => PyText.Strip(s, OptStr(a.Get(0, "chars", null), "strip")),
        "lstrip" => (_, a) => PyText.LStrip(s, OptStr(a.Get(0, "chars", null), "lstrip")),
        "rstrip" => (_, a) => PyText.RStrip(s, OptStr(a.Get(0, "chars", null), "rstrip")),
        "upper" => (_, _) => s.ToUpperInvariant(),
        "lower" => (_, _) => s.ToLowerInvariant(),
        "title" => (_, _) => PyText.PyTitle(s),
        "capitalize" => (_, _) => PyText.Capitalize(s),
        "swapcase" => (_, _) => new string(s.Select(c => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)).ToArray()),
        "startswith" => (_, a) => Affix(s, a, (x, p) => x.StartsWith(p, StringComparison.Ordinal)),
        "endswith" => (_, a) => Affix(s, a, (x, p) => x.EndsWith(p, StringComparison.Ordinal)),
        "split" => (r, a) => Strings(r, PyText.Split(s, OptStr(a.Get(0, "sep", null), "split"), (int)Values.AsLong(a.Get(1, "maxsplit", -1L)))),
        "rsplit" => (r, a) => Strings(r, PyText.RSplit(s, OptStr(a.Get(0, "sep", null), "rsplit"), (int)Values.AsLong(a.Get(1, "maxsplit", -1L)))),
        "splitlines" => (r, _) => Strings(r, PyText.SplitLines(s)),
        "replace" => (r, a) => Replace(r, s, Str(a.Get(0, "old", null), "replace() argument 1"), Str(a.Get(1, "new", null), "replace() argument 2"), Values.AsLong(a.Get(2, "count", -1L))),
        "find" => (_, a) => (long)s.IndexOf(Str(a.Get(0, "sub", null), "find() argument"), StringComparison.Ordinal),
        "rfind" => (_, a) => (long)s.LastIndexOf(Str(a.Get(0, "sub", null), "rfind() argument"), StringComparison.Ordinal),
        "count" => (_, a) => (long)CountOccurrences(s, Str(a.Get(0, "sub", null), "count() argument")),
        "join" => (r, a) => Join(r, s, a.Get(0, "iterable", null)),
        "isdigit" => (_, _) => s.Length > 0 && s.All(char.IsDigit),
        "isalpha" => (_, _) => s.Length > 0 && s.All(char.IsLetter),
        "isalnum" => (_, _) => s.Length > 0 && s.All(char.IsLetterOrDigit),
        "isspace" => (_, _) => s.Length > 0 && s.All(PyText.IsSpace),
        "isupper" => (_, _) => s.Any(char.IsLetter) && !s.Any(char.IsLower),
        "islower" => (_, _) => s.Any(char.IsLetter) && !s.Any(char.IsUpper),
        "format" => (r, a) => Format(r, s, a),
        _ => null,
    };

    private static Func<Renderer, CallArgs, object?>? DictMethod(PyDict d, string name) => name switch
    {
        "get" => (_, a) => d.TryGet(a.Get(0, "key", null), out var v) ? v : a.Get(1, "default", null),
        "items" => (r, _) =>
        {
            r.Charge(d.Count);
            return d.Items.Select(kv => (object?)new object?[] { kv.Key, kv.Value }).ToList();
        },
        "keys" => (r, _) =>
        {
            r.Charge(d.Count);
            return d.Keys.ToList<object?>();
        },
        "values" => (r, _) =>
        {
            r.Charge(d.Count);
            return d.ValuesList.ToList();
        },
        "copy" => (r, _) =>
        {
            r.Charge(d.Count);
            var copy = new PyDict();
            foreach (var kv in d.Items)
            {
                copy.Set(kv.Key, kv.Value);
            }

            return copy;
        },
        _ when DictMutators.Contains(name) => Unsafe("dict", name),
        _ => null,
    };

    private static Func<Renderer, CallArgs, object?>? ListMethod(IReadOnlyList<object?> list, string name, bool tuple) => name switch
    {
        "count" => (_, a) => (long)list.Count(x => Values.PyEquals(x, a.Get(0, "value", null))),
        "index" => (_, a) =>
        {
            var target = a.Get(0, "value", null);
            for (int i = 0; i < list.Count; i++)
            {
                if (Values.PyEquals(list[i], target))
                {
                    return (long)i;
                }
            }

            throw new ChatTemplateException($"ValueError: {Values.Repr(target)} is not in list");
        },
        _ when !tuple && ListMutators.Contains(name) => Unsafe("list", name),
        _ => null,
    };

    private static List<object?> Strings(Renderer r, List<string> parts)
    {
        r.Charge(parts.Count);
        return parts.ConvertAll<object?>(p => p);
    }

    private static bool Affix(string s, CallArgs a, Func<string, string, bool> test)
    {
        var arg = a.Get(0, "prefix", null);
        long start = a.Has(1, "start") ? Values.AsLong(a.Get(1, "start", 0L)) : 0;
        string target = start == 0 ? s : PyText.Slice(s, start, a.Has(2, "end") ? Values.AsLong(a.Get(2, "end", 0L)) : null, null);
        return arg switch
        {
            string p => test(target, p),
            IReadOnlyList<object?> options => options.Any(o => test(target, Str(o, "tuple for startswith/endswith"))),
            _ => throw Values.TypeError($"startswith/endswith first arg must be str or a tuple of str, not {Values.TypeName(arg)}"),
        };
    }

    public static string Replace(Renderer r, string s, string old, string replacement, long count)
    {
        if (count == 0)
        {
            return s;
        }

        var sb = new StringBuilder();
        int pos = 0;
        long done = 0;
        if (old.Length == 0)
        {
            // Python inserts the replacement between every character, and at both ends.
            foreach (string cp in PyText.CodePoints(s))
            {
                if (count < 0 || done < count)
                {
                    sb.Append(replacement);
                    done++;
                }

                sb.Append(cp);
                r.Charge(replacement.Length + cp.Length);
            }

            if (count < 0 || done < count)
            {
                sb.Append(replacement);
            }

            return sb.ToString();
        }

        while (count < 0 || done < count)
        {
            int k = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (k < 0)
            {
                break;
            }

            sb.Append(s, pos, k - pos).Append(replacement);
            r.Charge(k - pos + replacement.Length);
            pos = k + old.Length;
            done++;
        }

        sb.Append(s, pos, s.Length - pos);
        r.Charge(s.Length - pos);
        return sb.ToString();
    }

    private static int CountOccurrences(string s, string sub)
    {
        if (sub.Length == 0)
        {
            return PyText.Length(s) + 1;
        }

        int n = 0;
        int pos = 0;
        while ((pos = s.IndexOf(sub, pos, StringComparison.Ordinal)) >= 0)
        {
            n++;
            pos += sub.Length;
        }

        return n;
    }

    private static string Join(Renderer r, string sep, object? iterable)
    {
        var items = Values.Iterate(iterable);
        var sb = new StringBuilder();
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(sep);
            }

            sb.Append(items[i] as string ?? throw Values.TypeError($"sequence item {i}: expected str instance, {Values.TypeName(items[i])} found"));
            r.Charge(sep.Length + ((string)items[i]!).Length);
        }

        return sb.ToString();
    }

    /// <summary><c>str.format</c> with <c>{}</c>, <c>{0}</c> and <c>{name}</c> fields; format specs are not supported.</summary>
    private static string Format(Renderer r, string s, CallArgs a)
    {
        var sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '{' && i + 1 < s.Length && s[i + 1] == '{')
            {
                sb.Append('{');
                i++;
            }
            else if (c == '}' && i + 1 < s.Length && s[i + 1] == '}')
            {
                sb.Append('}');
                i++;
            }
            else if (c == '{')
            {
                int end = s.IndexOf('}', i);
                if (end < 0)
                {
                    throw new ChatTemplateException("ValueError: Single '{' encountered in format string");
                }

                string field = s[(i + 1)..end];
                if (field.Contains(':', StringComparison.Ordinal) || field.Contains('!', StringComparison.Ordinal))
                {
                    throw new ChatTemplateException("str.format specs and conversions are not supported");
                }

                object? value = field.Length == 0 ? a.Get(auto++, "\0", new Undefined("format index out of range"))
                    : int.TryParse(field, out int idx) ? a.Get(idx, "\0", new Undefined("format index out of range"))
                    : a.Get(-1, field, new Undefined($"'{field}' is undefined"));
                if (value is Undefined u)
                {
                    throw new ChatTemplateException($"IndexError/KeyError: {u.Hint}");
                }

                sb.Append(Values.ToStr(value));
                i = end;
            }
            else if (c == '}')
            {
                throw new ChatTemplateException("ValueError: Single '}' encountered in format string");
            }
            else
            {
                sb.Append(c);
            }
        }

        r.Charge(sb.Length);
        return sb.ToString();
    }
}
