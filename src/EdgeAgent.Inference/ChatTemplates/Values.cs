namespace EdgeAgent.Inference.ChatTemplates;

// Runtime values mirror the Python objects a Hugging Face template sees:
//   None -> null, bool -> bool, int -> long, float -> double, str -> string,
//   list -> List<object?>, tuple -> object?[], dict -> PyDict,
//   plus jinja's Undefined, namespace(), the loop object, macros and callables.

/// <summary>jinja2's default <c>Undefined</c>: falsy, renders as "", iterates as empty; most other uses raise.</summary>
internal sealed class Undefined
{
    public Undefined(string hint) => Hint = hint;

    /// <summary>Why the value is undefined, phrased like jinja2 (<c>'x' is undefined</c>).</summary>
    public string Hint { get; }

    public static Undefined Missing(string name) => new($"'{name}' is undefined");

    public static Undefined NoAttribute(object? obj, string name) => new($"'{Values.TypeName(obj)} object' has no attribute '{name}'");

    public ChatTemplateException Fail() => new($"UndefinedError: {Hint}");
}

/// <summary>A Python dict: insertion-ordered, keys compared with Python equality (so 1 == 1.0 == True).</summary>
internal sealed class PyDict
{
    private readonly OrderedDictionary<object, object?> _items = new(KeyComparer.Instance);

    public int Count => _items.Count;

    public IEnumerable<KeyValuePair<object, object?>> Items => _items;

    public IEnumerable<object> Keys => _items.Keys;

    public IEnumerable<object?> ValuesList => _items.Values;

    public bool TryGet(object? key, out object? value)
    {
        value = null;
        return key is not null && _items.TryGetValue(key, out value);
    }

    public bool ContainsKey(object? key) => key is not null && _items.ContainsKey(key);

    public void Set(object? key, object? value)
    {
        // None is a legal Python key but never appears in chat templates; keeping keys non-null
        // keeps the dictionary simple.
        _items[key ?? throw new ChatTemplateException("TypeError: None is not supported as a dict key")] = value;
    }

    private sealed class KeyComparer : IEqualityComparer<object>
    {
        public static readonly KeyComparer Instance = new();

        public new bool Equals(object? x, object? y) => Values.PyEquals(x, y);

        public int GetHashCode(object obj) => obj switch
        {
            string s => StringComparer.Ordinal.GetHashCode(s),
            bool b => b ? 1 : 0,
            long l => l.GetHashCode(),
            double d => d == Math.Floor(d) && Math.Abs(d) < 9.2e18 ? ((long)d).GetHashCode() : d.GetHashCode(),
            _ => obj.GetHashCode(),
        };
    }
}

/// <summary>The object <c>namespace(...)</c> returns; the one value templates may assign attributes on.</summary>
internal sealed class Namespace
{
    public Dictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}

/// <summary>The <c>loop</c> variable inside a for loop.</summary>
internal sealed class LoopContext
{
    private readonly IReadOnlyList<object?> _items;

    public LoopContext(IReadOnlyList<object?> items) => _items = items;

    public int Index0 { get; set; }

    public int Length => _items.Count;

    public object? Get(string name) => name switch
    {
        "index" => (long)Index0 + 1,
        "index0" => (long)Index0,
        "revindex" => (long)(Length - Index0),
        "revindex0" => (long)(Length - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == Length - 1,
        "length" => (long)Length,
        "depth" => 1L,
        "depth0" => 0L,
        "previtem" => Index0 > 0 ? _items[Index0 - 1] : new Undefined("there is no previous item"),
        "nextitem" => Index0 + 1 < Length ? _items[Index0 + 1] : new Undefined("there is no next item"),
        "cycle" => new BuiltinFunction("loop.cycle", (_, args) =>
        {
            if (args.Positional.Count == 0)
            {
                throw new ChatTemplateException("TypeError: no items for cycling given");
            }

            return args.Positional[Index0 % args.Positional.Count];
        }),
        _ => Undefined.NoAttribute(this, name),
    };
}

/// <summary>Positional and keyword arguments of a call.</summary>
internal sealed class CallArgs
{
    public static readonly CallArgs Empty = new([], []);

    public CallArgs(IReadOnlyList<object?> positional, IReadOnlyList<KeyValuePair<string, object?>> keywords)
    {
        Positional = positional;
        Keywords = keywords;
    }

    public IReadOnlyList<object?> Positional { get; }

    public IReadOnlyList<KeyValuePair<string, object?>> Keywords { get; }

    /// <summary>Binds a parameter by keyword, else by position, else the default.</summary>
    public object? Get(int position, string name, object? defaultValue)
    {
        foreach (var kv in Keywords)
        {
            if (kv.Key == name)
            {
                return kv.Value;
            }
        }

        return position >= 0 && position < Positional.Count ? Positional[position] : defaultValue;
    }

    public bool Has(int position, string name) =>
        (position >= 0 && position < Positional.Count) || Keywords.Any(kv => kv.Key == name);
}

/// <summary>A callable value: globals such as <c>range</c>, bound methods such as <c>str.strip</c>.</summary>
internal sealed class BuiltinFunction
{
    public BuiltinFunction(string name, Func<Renderer, CallArgs, object?> body)
    {
        Name = name;
        Body = body;
    }

    public string Name { get; }

    public Func<Renderer, CallArgs, object?> Body { get; }
}

/// <summary>A macro defined with <c>{% macro %}</c>, closing over the scope it was defined in.</summary>
internal sealed class MacroValue
{
    public MacroValue(MacroNode node, Scope closure)
    {
        Node = node;
        Closure = closure;
    }

    public MacroNode Node { get; }

    public Scope Closure { get; }
}
