using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace EdgeAgent.Inference.ChatTemplates;

/// <summary>
/// Python semantics of the runtime values: truthiness, <c>str</c>/<c>repr</c>, equality and
/// ordering, arithmetic, attribute and item access as jinja2's sandboxed environment performs them.
/// </summary>
internal static class Values
{
    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        object?[] => "tuple",
        PyDict => "dict",
        Undefined => "Undefined",
        Namespace => "Namespace",
        LoopContext => "LoopContext",
        MacroValue => "Macro",
        BuiltinFunction => "builtin_function_or_method",
        _ => v.GetType().Name,
    };

    public static ChatTemplateException TypeError(string message) => new($"TypeError: {message}");

    public static void EnsureStack()
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw new ChatTemplateException("Value nesting is too deep");
        }
    }

    public static bool IsNumber(object? v) => v is long or double or bool;

    public static bool IsIntegral(object? v) => v is long or bool;

    public static long AsLong(object? v) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw TypeError($"'{TypeName(v)}' object cannot be interpreted as an integer"),
    };

    public static double AsDouble(object? v) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        double d => d,
        _ => throw TypeError($"must be real number, not {TypeName(v)}"),
    };

    public static bool Truthy(object? v) => v switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> list => list.Count > 0,
        object?[] tuple => tuple.Length > 0,
        PyDict d => d.Count > 0,
        Undefined => false,
        _ => true,
    };

    /// <summary>Python <c>str(v)</c>; undefined renders as the empty string.</summary>
    public static string ToStr(object? v) => v switch
    {
        string s => s,
        null => "None",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => PyText.FormatFloat(d),
        Undefined => "",
        _ => Repr(v),
    };

    /// <summary>Python <c>repr(v)</c>, used when containers are printed.</summary>
    public static string Repr(object? v)
    {
        EnsureStack();
        switch (v)
        {
            case string s:
                return PyText.Repr(s);
            case Undefined:
                return "Undefined";
            case List<object?> list:
                return "[" + string.Join(", ", list.Select(Repr)) + "]";
            case object?[] tuple:
                return tuple.Length == 1 ? "(" + Repr(tuple[0]) + ",)" : "(" + string.Join(", ", tuple.Select(Repr)) + ")";
            case PyDict d:
                return "{" + string.Join(", ", d.Items.Select(kv => Repr(kv.Key) + ": " + Repr(kv.Value))) + "}";
            case Namespace ns:
                return "<Namespace {" + string.Join(", ", ns.Attributes.Select(kv => PyText.Repr(kv.Key) + ": " + Repr(kv.Value))) + "}>";
            case LoopContext loop:
                return $"<LoopContext {loop.Index0 + 1}/{loop.Length}>";
            case MacroValue m:
                return $"<Macro '{m.Node.Name}'>";
            case BuiltinFunction f:
                return $"<built-in function {f.Name}>";
            default:
                return ToStr(v);
        }
    }

    public static bool PyEquals(object? a, object? b)
    {
        if (a is null || b is null)
        {
            return a is null && b is null;
        }

        if (IsNumber(a) && IsNumber(b))
        {
            return IsIntegral(a) && IsIntegral(b) ? AsLong(a) == AsLong(b) : AsDouble(a) == AsDouble(b);
        }

        // Python compares container items with an identity shortcut ("x is y or x == y").
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        EnsureStack();
        switch (a)
        {
            case string sa:
                return b is string sb && string.Equals(sa, sb, StringComparison.Ordinal);
            case Undefined:
                return b is Undefined;
            case List<object?> la:
                return b is List<object?> lb && SequenceEquals(la, lb);
            case object?[] ta:
                return b is object?[] tb && SequenceEquals(ta, tb);
            case PyDict da:
                if (b is not PyDict db || da.Count != db.Count)
                {
                    return false;
                }

                foreach (var kv in da.Items)
                {
                    if (!db.TryGet(kv.Key, out var other) || !PyEquals(kv.Value, other))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return ReferenceEquals(a, b);
        }
    }

    private static bool SequenceEquals(IReadOnlyList<object?> a, IReadOnlyList<object?> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        for (int i = 0; i < a.Count; i++)
        {
            if (!PyEquals(a[i], b[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Python ordering for <c>&lt;</c> and friends; mismatched types raise TypeError.</summary>
    public static int Compare(object? a, object? b, string op)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            return IsIntegral(a) && IsIntegral(b) ? AsLong(a).CompareTo(AsLong(b)) : AsDouble(a).CompareTo(AsDouble(b));
        }

        EnsureStack();
        if (a is string sa && b is string sb)
        {
            return PyText.CompareCodePoints(sa, sb);
        }

        if ((a is List<object?> && b is List<object?>) || (a is object?[] && b is object?[]))
        {
            var la = (IReadOnlyList<object?>)a;
            var lb = (IReadOnlyList<object?>)b;
            for (int i = 0; i < Math.Min(la.Count, lb.Count); i++)
            {
                if (!PyEquals(la[i], lb[i]))
                {
                    return Compare(la[i], lb[i], op);
                }
            }

            return la.Count.CompareTo(lb.Count);
        }

        if (a is Undefined ua)
        {
            throw ua.Fail();
        }

        if (b is Undefined ub)
        {
            throw ub.Fail();
        }

        throw TypeError($"'{op}' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    /// <summary>Python <c>item in container</c>.</summary>
    public static bool Contains(object? container, object? item)
    {
        switch (container)
        {
            case string s:
                if (item is not string sub)
                {
                    throw TypeError($"'in <string>' requires string as left operand, not {TypeName(item)}");
                }

                return s.Contains(sub, StringComparison.Ordinal);
            case IReadOnlyList<object?> list:
                return list.Any(x => PyEquals(x, item));
            case PyDict d:
                return d.ContainsKey(item);
            case Undefined:
                return false;
            default:
                throw TypeError($"argument of type '{TypeName(container)}' is not iterable");
        }
    }

    /// <summary>Python <c>len(v)</c>; undefined has length 0.</summary>
    public static long Length(object? v) => v switch
    {
        string s => PyText.Length(s),
        IReadOnlyList<object?> list => list.Count,
        PyDict d => d.Count,
        Undefined => 0,
        _ => throw TypeError($"object of type '{TypeName(v)}' has no len()"),
    };

    /// <summary>The items a for loop or filter sees: list items, dict keys, string code points.</summary>
    public static IReadOnlyList<object?> Iterate(object? v) => v switch
    {
        List<object?> list => list,
        object?[] tuple => tuple,
        PyDict d => d.Keys.ToList<object?>(),
        string s => PyText.CodePoints(s).ToList<object?>(),
        Undefined => [],
        _ => throw TypeError($"'{TypeName(v)}' object is not iterable"),
    };

    public static object? Call(Renderer r, object? callee, CallArgs args) => callee switch
    {
        BuiltinFunction f => f.Body(r, args),
        MacroValue m => r.CallMacro(m, args),
        Undefined u => throw u.Fail(),
        _ => throw TypeError($"'{TypeName(callee)}' object is not callable"),
    };

    // ---- attribute and item access ----

    /// <summary><c>obj.name</c>: jinja2 tries the Python attribute first, then the item.</summary>
    public static object? GetAttr(object? obj, string name)
    {
        switch (obj)
        {
            case Undefined u:
                throw u.Fail();
            case PyDict d:
                return (object?)Methods.TryBind(d, name) ?? (d.TryGet(name, out var v) ? v : Undefined.NoAttribute(obj, name));
            case string or List<object?> or object?[]:
                return (object?)Methods.TryBind(obj, name) ?? Undefined.NoAttribute(obj, name);
            case Namespace ns:
                return ns.Attributes.TryGetValue(name, out var nv) ? nv : Undefined.NoAttribute(obj, name);
            case LoopContext loop:
                return loop.Get(name);
            default:
                return Undefined.NoAttribute(obj, name);
        }
    }

    /// <summary><c>obj[key]</c>: jinja2 tries the item first, then a string key as an attribute.</summary>
    public static object? GetItem(object? obj, object? key)
    {
        if (obj is Undefined u)
        {
            throw u.Fail();
        }

        if (key is SliceValue slice)
        {
            return GetSlice(obj, slice);
        }

        switch (obj)
        {
            case PyDict d when d.TryGet(key, out var v):
                return v;
            case string s when IsIntegral(key):
                return PyText.Index(s, AsLong(key)) is string ch ? ch : new Undefined("string index out of range");
            case IReadOnlyList<object?> list when IsIntegral(key):
                long i = AsLong(key);
                i = i < 0 ? i + list.Count : i;
                return i >= 0 && i < list.Count ? list[(int)i] : new Undefined($"{TypeName(obj)} index out of range");
        }

        return key is string name ? GetAttr(obj, name) : new Undefined($"'{TypeName(obj)} object' has no item {Repr(key)}");
    }

    private static object? GetSlice(object? obj, SliceValue s)
    {
        switch (obj)
        {
            case string str:
                return PyText.Slice(str, s.Start, s.Stop, s.Step);
            case IReadOnlyList<object?> list:
                var idx = PySlice.Indices(list.Count, s.Start, s.Stop, s.Step);
                var result = new List<object?>(idx.Count);
                for (int k = 0, i = idx.Start; k < idx.Count; k++, i += idx.Step)
                {
                    result.Add(list[i]);
                }

                return obj is object?[] ? result.ToArray() : result;
            default:
                return new Undefined($"'{TypeName(obj)}' object is not subscriptable");
        }
    }

    // ---- arithmetic ----

    public static object? Binary(Renderer r, BinaryOp op, object? a, object? b)
    {
        if (a is Undefined ua)
        {
            throw ua.Fail();
        }

        if (b is Undefined ub)
        {
            throw ub.Fail();
        }

        string symbol = op switch
        {
            BinaryOp.Add => "+",
            BinaryOp.Sub => "-",
            BinaryOp.Mul => "*",
            BinaryOp.Div => "/",
            BinaryOp.FloorDiv => "//",
            BinaryOp.Mod => "%",
            _ => "**",
        };

        if (IsNumber(a) && IsNumber(b))
        {
            return Arithmetic(op, a, b, symbol);
        }

        switch (op)
        {
            case BinaryOp.Add when a is string sa && b is string sb:
                r.Charge(sa.Length + sb.Length);
                return sa + sb;
            case BinaryOp.Add when a is List<object?> la && b is List<object?> lb:
                r.Charge(la.Count + lb.Count);
                return la.Concat(lb).ToList();
            case BinaryOp.Add when a is object?[] ta && b is object?[] tb:
                r.Charge(ta.Length + tb.Length);
                return ta.Concat(tb).ToArray();
            case BinaryOp.Mul when IsIntegral(a) && (b is string || b is IReadOnlyList<object?>):
                return Repeat(r, b, AsLong(a));
            case BinaryOp.Mul when IsIntegral(b) && (a is string || a is IReadOnlyList<object?>):
                return Repeat(r, a, AsLong(b));
            case BinaryOp.Add when a is string:
                throw TypeError($"can only concatenate str (not \"{TypeName(b)}\") to str");
            case BinaryOp.Mod when a is string format:
                return PyFormat.Percent(r, format, b);
        }

        throw TypeError($"unsupported operand type(s) for {symbol}: '{TypeName(a)}' and '{TypeName(b)}'");
    }

    private static object Repeat(Renderer r, object? seq, long times)
    {
        times = Math.Max(times, 0);
        long unit = seq is string s ? s.Length : ((IReadOnlyList<object?>)seq!).Count;
        if (unit * (double)times > r.MaxStringLength)
        {
            throw new ChatTemplateException("Result exceeds the output size limit");
        }

        r.Charge(unit * times);
        if (seq is string str)
        {
            var sb = new StringBuilder((int)(unit * times));
            for (long i = 0; i < times; i++)
            {
                sb.Append(str);
            }

            return sb.ToString();
        }

        var items = (IReadOnlyList<object?>)seq!;
        var result = new List<object?>((int)(unit * times));
        for (long i = 0; i < times; i++)
        {
            result.AddRange(items);
        }

        return seq is object?[] ? result.ToArray() : result;
    }

    private static object Arithmetic(BinaryOp op, object? a, object? b, string symbol)
    {
        try
        {
            if (IsIntegral(a) && IsIntegral(b))
            {
                long x = AsLong(a);
                long y = AsLong(b);
                switch (op)
                {
                    case BinaryOp.Add: return checked(x + y);
                    case BinaryOp.Sub: return checked(x - y);
                    case BinaryOp.Mul: return checked(x * y);
                    case BinaryOp.Div:
                        return y == 0 ? throw new ChatTemplateException("ZeroDivisionError: division by zero") : (double)x / y;
                    case BinaryOp.FloorDiv:
                    case BinaryOp.Mod:
                        if (y == 0)
                        {
                            throw new ChatTemplateException("ZeroDivisionError: integer division or modulo by zero");
                        }

                        long q = x / y;
                        long m = x % y;
                        if (m != 0 && ((m < 0) != (y < 0)))
                        {
                            q--;
                            m += y;
                        }

                        return op == BinaryOp.FloorDiv ? q : m;
                    default:
                        return y >= 0 ? (object)IntPow(x, y) : Math.Pow(x, y);
                }
            }

            double dx = AsDouble(a);
            double dy = AsDouble(b);
            switch (op)
            {
                case BinaryOp.Add: return dx + dy;
                case BinaryOp.Sub: return dx - dy;
                case BinaryOp.Mul: return dx * dy;
                case BinaryOp.Pow: return Math.Pow(dx, dy);
                default:
                    if (dy == 0)
                    {
                        throw new ChatTemplateException("ZeroDivisionError: float division by zero");
                    }

                    return op switch
                    {
                        BinaryOp.Div => dx / dy,
                        BinaryOp.FloorDiv => Math.Floor(dx / dy),
                        _ => dx - (dy * Math.Floor(dx / dy)),
                    };
            }
        }
        catch (OverflowException)
        {
            throw new ChatTemplateException($"OverflowError: integer result of '{symbol}' is too large");
        }
    }

    private static long IntPow(long x, long y)
    {
        long result = 1;
        while (y > 0)
        {
            if ((y & 1) != 0)
            {
                result = checked(result * x);
            }

            y >>= 1;
            if (y > 0)
            {
                x = checked(x * x);
            }
        }

        return result;
    }

    // Arms are cast to object so C# does not unify long and double into double.
    public static object? Negate(object? v) => v switch
    {
        long l => l == long.MinValue ? throw new ChatTemplateException("OverflowError: integer negation overflow") : (object)(-l),
        bool b => (object)(b ? -1L : 0L),
        double d => (object)(-d),
        Undefined u => throw u.Fail(),
        _ => throw TypeError($"bad operand type for unary -: '{TypeName(v)}'"),
    };

    public static object? Plus(object? v) => v switch
    {
        long or double => v,
        bool b => (object)(b ? 1L : 0L),
        Undefined u => throw u.Fail(),
        _ => throw TypeError($"bad operand type for unary +: '{TypeName(v)}'"),
    };
}

/// <summary>An evaluated <c>[start:stop:step]</c> subscript.</summary>
internal sealed record SliceValue(long? Start, long? Stop, long? Step);
