using System.Globalization;
using System.Text;

namespace EdgeAgent.Inference.ChatTemplates;

/// <summary>
/// Global functions a template can call: jinja2's <c>range</c>, <c>namespace</c> and <c>dict</c>,
/// and Hugging Face's <c>raise_exception</c> and <c>strftime_now</c>.
/// </summary>
internal static class Globals
{
    public static void AddTo(Scope scope)
    {
        scope.Set("range", new BuiltinFunction("range", Range));
        scope.Set("namespace", new BuiltinFunction("namespace", (r, a) => MakeNamespace(a)));
        scope.Set("dict", new BuiltinFunction("dict", (r, a) => MakeDict(a)));
        scope.Set("raise_exception", new BuiltinFunction("raise_exception", (r, a) =>
            throw new ChatTemplateException(Values.ToStr(a.Get(0, "message", ""))) { RaisedByTemplate = true }));
        scope.Set("strftime_now", new BuiltinFunction("strftime_now", (r, a) =>
            Strftime(r.Now, Values.ToStr(a.Get(0, "format", "")))));
    }

    private static object? Range(Renderer r, CallArgs a)
    {
        long start = 0;
        long step = 1;
        long stop;
        var p = a.Positional;
        switch (p.Count)
        {
            case 1:
                stop = Values.AsLong(p[0]);
                break;
            case 2:
                start = Values.AsLong(p[0]);
                stop = Values.AsLong(p[1]);
                break;
            case 3:
                start = Values.AsLong(p[0]);
                stop = Values.AsLong(p[1]);
                step = Values.AsLong(p[2]);
                break;
            default:
                throw Values.TypeError($"range expected 1 to 3 arguments, got {p.Count}");
        }

        if (step == 0)
        {
            throw new ChatTemplateException("ValueError: range() arg 3 must not be zero");
        }

        double count = Math.Max(0, Math.Ceiling(((double)stop - start) / step));
        if (count > r.MaxIterations)
        {
            throw new ChatTemplateException($"range() of {count} items exceeds the limit of {r.MaxIterations} loop iterations");
        }

        r.Charge((long)count);
        var result = new List<object?>((int)count);
        for (long i = 0, v = start; i < (long)count; i++, v += step)
        {
            result.Add(v);
        }

        return result;
    }

    /// <summary>Python's <c>dict(mapping_or_pairs, **kwargs)</c> argument handling.</summary>
    private static void Fill(Action<string, object?> set, CallArgs a)
    {
        if (a.Positional.Count > 1)
        {
            throw Values.TypeError("expected at most 1 positional argument");
        }

        if (a.Positional.Count == 1)
        {
            if (a.Positional[0] is PyDict d)
            {
                foreach (var kv in d.Items)
                {
                    set(kv.Key as string ?? throw Values.TypeError("keywords must be strings"), kv.Value);
                }
            }
            else
            {
                foreach (var pair in Values.Iterate(a.Positional[0]))
                {
                    var kv = Values.Iterate(pair);
                    if (kv.Count != 2 || kv[0] is not string key)
                    {
                        throw Values.TypeError("dictionary update sequence element must be a (str, value) pair");
                    }

                    set(key, kv[1]);
                }
            }
        }

        foreach (var kv in a.Keywords)
        {
            set(kv.Key, kv.Value);
        }
    }

    private static Namespace MakeNamespace(CallArgs a)
    {
        var ns = new Namespace();
        Fill((k, v) => ns.Attributes[k] = v, a);
        return ns;
    }

    private static PyDict MakeDict(CallArgs a)
    {
        var d = new PyDict();
        Fill((k, v) => d.Set(k, v), a);
        return d;
    }

    /// <summary>
    /// Python/glibc <c>strftime</c> for the directives chat templates use: %a %A %b %B %d %e %H %I
    /// %j %m %M %p %S %y %Y %f %w %%, with glibc's '-' flag (<c>%-d</c>) to drop zero padding.
    /// Unknown directives are copied through unchanged.
    /// </summary>
    public static string Strftime(DateTime t, string format)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%' || i + 1 >= format.Length)
            {
                sb.Append(c);
                continue;
            }

            bool noPad = format[i + 1] == '-' && i + 2 < format.Length;
            char d = noPad ? format[i + 2] : format[i + 1];
            string Pad(int value, int width) => noPad ? value.ToString(inv) : value.ToString(new string('0', width), inv);
            string? s = d switch
            {
                'a' => t.ToString("ddd", inv),
                'A' => t.ToString("dddd", inv),
                'b' or 'h' => t.ToString("MMM", inv),
                'B' => t.ToString("MMMM", inv),
                'd' => Pad(t.Day, 2),
                'e' => noPad ? t.Day.ToString(inv) : t.Day.ToString(inv).PadLeft(2),
                'H' => Pad(t.Hour, 2),
                'I' => Pad(t.Hour % 12 == 0 ? 12 : t.Hour % 12, 2),
                'j' => Pad(t.DayOfYear, 3),
                'm' => Pad(t.Month, 2),
                'M' => Pad(t.Minute, 2),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'S' => Pad(t.Second, 2),
                'y' => Pad(t.Year % 100, 2),
                'Y' => t.Year.ToString(inv),
                'f' => (t.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", inv),
                'w' => ((int)t.DayOfWeek).ToString(inv),
                '%' => "%",
                _ => null,
            };
            if (s is null)
            {
                sb.Append(c);
                continue;
            }

            sb.Append(s);
            i += noPad ? 2 : 1;
        }

        return sb.ToString();
    }
}
