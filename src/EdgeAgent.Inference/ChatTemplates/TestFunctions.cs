namespace EdgeAgent.Inference.ChatTemplates;

/// <summary>jinja2's built-in tests (<c>x is defined</c>, <c>x is string</c>, ...), with jinja2 3.x semantics.</summary>
internal static class TestFunctions
{
    private delegate bool Test(object? value, CallArgs args);

    private static readonly Dictionary<string, Test> Table = new(StringComparer.Ordinal)
    {
        ["defined"] = (v, _) => v is not Undefined,
        ["undefined"] = (v, _) => v is Undefined,
        ["none"] = (v, _) => v is null,
        ["boolean"] = (v, _) => v is bool,
        ["true"] = (v, _) => v is true,
        ["false"] = (v, _) => v is false,
        ["integer"] = (v, _) => v is long,
        ["float"] = (v, _) => v is double,

        // Python's numbers.Number includes bool.
        ["number"] = (v, _) => v is long or double or bool,
        ["string"] = (v, _) => v is string,
        ["mapping"] = (v, _) => v is PyDict,

        // iter() succeeds on strings, lists, tuples, dicts and on jinja2's Undefined.
        ["iterable"] = (v, _) => v is string or IReadOnlyList<object?> or PyDict or Undefined,

        // len() and __getitem__ both exist.
        ["sequence"] = (v, _) => v is string or IReadOnlyList<object?> or PyDict,
        ["callable"] = (v, _) => v is BuiltinFunction or MacroValue,
        ["sameas"] = (v, a) => SameAs(v, Arg(a)),
        ["escaped"] = (_, _) => false,
        ["lower"] = (v, _) => Values.ToStr(v) is var s && s.Any(char.IsLetter) && !s.Any(char.IsUpper),
        ["upper"] = (v, _) => Values.ToStr(v) is var s && s.Any(char.IsLetter) && !s.Any(char.IsLower),
        ["odd"] = (v, _) => Values.AsLong(v) % 2 != 0,
        ["even"] = (v, _) => Values.AsLong(v) % 2 == 0,
        ["divisibleby"] = (v, a) => Values.AsLong(Arg(a)) is var n && n != 0
            ? Values.AsLong(v) % n == 0
            : throw new ChatTemplateException("ZeroDivisionError: integer division or modulo by zero"),
        ["eq"] = (v, a) => Values.PyEquals(v, Arg(a)),
        ["equalto"] = (v, a) => Values.PyEquals(v, Arg(a)),
        ["=="] = (v, a) => Values.PyEquals(v, Arg(a)),
        ["ne"] = (v, a) => !Values.PyEquals(v, Arg(a)),
        ["!="] = (v, a) => !Values.PyEquals(v, Arg(a)),
        ["lt"] = (v, a) => Values.Compare(v, Arg(a), "<") < 0,
        ["lessthan"] = (v, a) => Values.Compare(v, Arg(a), "<") < 0,
        ["le"] = (v, a) => Values.Compare(v, Arg(a), "<=") <= 0,
        ["gt"] = (v, a) => Values.Compare(v, Arg(a), ">") > 0,
        ["greaterthan"] = (v, a) => Values.Compare(v, Arg(a), ">") > 0,
        ["ge"] = (v, a) => Values.Compare(v, Arg(a), ">=") >= 0,
        ["in"] = (v, a) => Values.Contains(Arg(a), v),
        ["filter"] = (v, _) => v is string s && Filters.IsKnown(s),
        ["test"] = (v, _) => v is string s && Table!.ContainsKey(s),
    };

    public static bool Apply(Renderer r, string name, object? value, CallArgs args)
    {
        if (!Table.TryGetValue(name, out var test))
        {
            throw new ChatTemplateException($"No test named '{name}'.");
        }

        return test(value, args);
    }

    private static object? Arg(CallArgs a) =>
        a.Positional.Count > 0 ? a.Positional[0] : throw Values.TypeError("test is missing its argument");

    /// <summary>Python identity as far as it is observable: None, bools, small ints and the same object.</summary>
    private static bool SameAs(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (bool x, bool y) => x == y,
        (long x, long y) => x == y && x is >= -5 and <= 256,
        _ => a is not null && ReferenceEquals(a, b),
    };
}
