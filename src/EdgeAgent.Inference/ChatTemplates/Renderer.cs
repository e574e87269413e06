using System.Runtime.CompilerServices;
using System.Text;

namespace EdgeAgent.Inference.ChatTemplates;

/// <summary>A variable scope. For-loop iterations, macros and with/set blocks get child scopes; if-blocks do not.</summary>
internal sealed class Scope
{
    private readonly Dictionary<string, object?> _vars = new(StringComparer.Ordinal);

    public Scope(Scope? parent) => Parent = parent;

    public Scope? Parent { get; }

    public bool TryGet(string name, out object? value)
    {
        for (var s = this; s is not null; s = s.Parent)
        {
            if (s._vars.TryGetValue(name, out value))
            {
                return true;
            }
        }

        value = null;
        return false;
    }

    public void Set(string name, object? value) => _vars[name] = value;
}

/// <summary>
/// Tree-walking interpreter for one render. Holds the resource bounds: output length, a work
/// budget charged for every string or list built, loop iterations, and macro call depth.
/// </summary>
internal sealed class Renderer
{
    private readonly Lexer _lexer;
    private readonly int _maxOutput;
    private readonly long _maxIterations;
    private readonly int _maxCallDepth;
    private long _workLeft;
    private long _iterations;
    private int _callDepth;

    public Renderer(Lexer lexer, ChatTemplateOptions options, DateTime now)
    {
        _lexer = lexer;
        _maxOutput = options.MaxOutputLength;
        _maxIterations = options.MaxLoopIterations;
        _maxCallDepth = options.MaxCallDepth;
        Now = now;

        // Every intermediate string and list is charged here, so quadratic string building in a
        // loop fails fast instead of running for minutes. 32x the output bound leaves room for
        // legitimate templates that concatenate each message a few times.
        _workLeft = 32L * options.MaxOutputLength;
    }

    public DateTime Now { get; }

    /// <summary>Largest string any single operation may produce.</summary>
    public int MaxStringLength => _maxOutput;

    public long MaxIterations => _maxIterations;

    public void Charge(long units)
    {
        _workLeft -= units;
        if (_workLeft < 0)
        {
            throw new ChatTemplateException("Template exceeded its work budget (output or intermediate strings too large)");
        }
    }

    public void CountIteration()
    {
        if (++_iterations > _maxIterations)
        {
            throw new ChatTemplateException($"Template exceeded the limit of {_maxIterations} loop iterations");
        }
    }

    private enum Flow
    {
        Normal,
        Break,
        Continue,
    }

    public string Render(IReadOnlyList<Node> body, Scope scope)
    {
        var output = new StringBuilder();
        Exec(body, scope, output);
        return output.ToString();
    }

    private ChatTemplateException Locate(ChatTemplateException ex, int offset)
    {
        if (ex.Line > 0)
        {
            return ex;
        }

        var (line, col) = _lexer.Position(offset);
        return new ChatTemplateException(ex.Reason, line, col) { RaisedByTemplate = ex.RaisedByTemplate };
    }

    private void Append(StringBuilder output, string text)
    {
        Charge(text.Length);
        output.Append(text);
        if (output.Length > _maxOutput)
        {
            throw new ChatTemplateException($"Rendered output exceeds the limit of {_maxOutput} characters");
        }
    }

    private Flow Exec(IReadOnlyList<Node> nodes, Scope scope, StringBuilder output)
    {
        foreach (var node in nodes)
        {
            var flow = Exec(node, scope, output);
            if (flow != Flow.Normal)
            {
                return flow;
            }
        }

        return Flow.Normal;
    }

    private Flow Exec(Node node, Scope scope, StringBuilder output)
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw Locate(new ChatTemplateException("Template recursion is too deep"), node.Offset);
        }

        try
        {
            switch (node)
            {
                case TextNode t:
                    Append(output, t.Text);
                    return Flow.Normal;
                case OutputNode o:
                    Append(output, Values.ToStr(Eval(o.Value, scope)));
                    return Flow.Normal;
                case IfNode i:
                    foreach (var (test, body) in i.Branches)
                    {
                        if (Values.Truthy(Eval(test, scope)))
                        {
                            return Exec(body, scope, output);
                        }
                    }

                    return i.Else is null ? Flow.Normal : Exec(i.Else, scope, output);
                case ForNode f:
                    ExecFor(f, scope, output);
                    return Flow.Normal;
                case SetNode s:
                    Assign(s.Target, Eval(s.Value, scope), scope);
                    return Flow.Normal;
                case SetBlockNode sb:
                    Assign(sb.Target, ApplyFilters(sb.Filters, Capture(sb.Body, new Scope(scope)), scope), scope);
                    return Flow.Normal;
                case FilterBlockNode fb:
                    Append(output, Values.ToStr(ApplyFilters(fb.Filters, Capture(fb.Body, new Scope(scope)), scope)));
                    return Flow.Normal;
                case MacroNode m:
                    scope.Set(m.Name, new MacroValue(m, scope));
                    return Flow.Normal;
                case WithNode w:
                    var inner = new Scope(scope);
                    foreach (var (target, value) in w.Assignments)
                    {
                        Assign(target, Eval(value, inner), inner);
                    }

                    return Exec(w.Body, inner, output);
                case SequenceNode seq:
                    return Exec(seq.Body, scope, output);
                case BreakNode:
                    return Flow.Break;
                case ContinueNode:
                    return Flow.Continue;
                default:
                    throw new ChatTemplateException($"Unknown node {node.GetType().Name}");
            }
        }
        catch (ChatTemplateException ex) when (ex.Line == 0)
        {
            throw Locate(ex, node.Offset);
        }
    }

    private string Capture(IReadOnlyList<Node> body, Scope scope)
    {
        var sb = new StringBuilder();
        Exec(body, scope, sb);
        return sb.ToString();
    }

    private object? ApplyFilters(IReadOnlyList<FilterExpr> filters, object? value, Scope scope)
    {
        foreach (var f in filters)
        {
            value = Filters.Apply(this, f.Name, value, EvalArgs(f.Args, f.Kwargs, scope));
        }

        return value;
    }

    private void ExecFor(ForNode f, Scope scope, StringBuilder output)
    {
        var items = Values.Iterate(Eval(f.Iterable, scope));
        if (f.Filter is not null)
        {
            var kept = new List<object?>();
            foreach (var item in items)
            {
                CountIteration();
                var filterScope = new Scope(scope);
                Assign(f.Target, item, filterScope);
                if (Values.Truthy(Eval(f.Filter, filterScope)))
                {
                    kept.Add(item);
                }
            }

            items = kept;
        }

        if (items.Count == 0)
        {
            if (f.Else is not null)
            {
                Exec(f.Else, new Scope(scope), output);
            }

            return;
        }

        var loop = new LoopContext(items);
        for (int i = 0; i < items.Count; i++)
        {
            CountIteration();
            var iteration = new Scope(scope);
            Assign(f.Target, items[i], iteration);
            loop.Index0 = i;
            iteration.Set("loop", loop);
            if (Exec(f.Body, iteration, output) == Flow.Break)
            {
                break;
            }
        }
    }

    private static void Assign(Target target, object? value, Scope scope)
    {
        switch (target)
        {
            case NameTarget n:
                scope.Set(n.Name, value);
                break;
            case AttributeTarget a:
                if (!scope.TryGet(a.Object, out var obj) || obj is not Namespace ns)
                {
                    throw new ChatTemplateException($"cannot assign attribute on non-namespace object '{a.Object}'");
                }

                ns.Attributes[a.Attribute] = value;
                break;
            case TupleTarget t:
                var items = Values.Iterate(value);
                if (items.Count != t.Items.Count)
                {
                    throw new ChatTemplateException(items.Count > t.Items.Count
                        ? $"ValueError: too many values to unpack (expected {t.Items.Count})"
                        : $"ValueError: not enough values to unpack (expected {t.Items.Count}, got {items.Count})");
                }

                for (int i = 0; i < items.Count; i++)
                {
                    Assign(t.Items[i], items[i], scope);
                }

                break;
        }
    }

    public object? CallMacro(MacroValue m, CallArgs args)
    {
        if (_callDepth >= _maxCallDepth)
        {
            throw new ChatTemplateException($"Macro calls nested deeper than {_maxCallDepth}");
        }

        _callDepth++;
        try
        {
            var scope = new Scope(m.Closure);
            var parameters = m.Node.Parameters;
            for (int i = 0; i < parameters.Count; i++)
            {
                var (name, def) = parameters[i];
                object? value = args.Has(i, name) ? args.Get(i, name, null)
                    : def is not null ? Eval(def, scope)
                    : Undefined.Missing(name);
                scope.Set(name, value);
            }

            scope.Set("varargs", args.Positional.Skip(parameters.Count).ToList());
            var extra = new PyDict();
            foreach (var kv in args.Keywords)
            {
                if (!parameters.Any(p => p.Name == kv.Key))
                {
                    extra.Set(kv.Key, kv.Value);
                }
            }

            scope.Set("kwargs", extra);
            return Capture(m.Node.Body, scope);
        }
        finally
        {
            _callDepth--;
        }
    }

    private CallArgs EvalArgs(IReadOnlyList<Expr> args, IReadOnlyList<(string Name, Expr Value)> kwargs, Scope scope)
    {
        if (args.Count == 0 && kwargs.Count == 0)
        {
            return CallArgs.Empty;
        }

        var positional = new List<object?>(args.Count);
        foreach (var a in args)
        {
            positional.Add(Eval(a, scope));
        }

        var keywords = new List<KeyValuePair<string, object?>>(kwargs.Count);
        foreach (var (name, value) in kwargs)
        {
            keywords.Add(new(name, Eval(value, scope)));
        }

        return new CallArgs(positional, keywords);
    }

    public object? Eval(Expr e, Scope scope)
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw Locate(new ChatTemplateException("Expression nesting is too deep"), e.Offset);
        }

        try
        {
            return EvalCore(e, scope);
        }
        catch (ChatTemplateException ex) when (ex.Line == 0)
        {
            throw Locate(ex, e.Offset);
        }
    }

    private object? EvalCore(Expr e, Scope scope)
    {
        switch (e)
        {
            case LiteralExpr l:
                return l.Value;
            case NameExpr n:
                return scope.TryGet(n.Name, out var v) ? v : Undefined.Missing(n.Name);
            case GetAttrExpr ga:
                return Values.GetAttr(Eval(ga.Object, scope), ga.Name);
            case GetItemExpr gi:
                var obj = Eval(gi.Object, scope);
                return Values.GetItem(obj, gi.Key is SliceExpr s ? EvalSlice(s, scope) : Eval(gi.Key, scope));
            case CallExpr c:
                var callee = Eval(c.Callee, scope);
                return Values.Call(this, callee, EvalArgs(c.Args, c.Kwargs, scope));
            case FilterExpr f:
                var operand = f.Operand is null ? null : Eval(f.Operand, scope);
                return Filters.Apply(this, f.Name, operand, EvalArgs(f.Args, f.Kwargs, scope));
            case TestExpr t:
                bool result = TestFunctions.Apply(this, t.Name, Eval(t.Operand, scope), EvalArgs(t.Args, [], scope));
                return t.Negated ? !result : result;
            case UnaryExpr u:
                var x = Eval(u.Operand, scope);
                return u.Op switch
                {
                    UnaryOp.Not => !Values.Truthy(x),
                    UnaryOp.Negate => Values.Negate(x),
                    _ => Values.Plus(x),
                };
            case BinaryExpr b:
                return EvalBinary(b, scope);
            case CompareExpr cmp:
                return EvalCompare(cmp, scope);
            case CondExpr ce:
                if (Values.Truthy(Eval(ce.Test, scope)))
                {
                    return Eval(ce.Then, scope);
                }

                return ce.Else is null
                    ? new Undefined("the inline if-expression evaluated to false and no else section was defined")
                    : Eval(ce.Else, scope);
            case ListExpr le:
                Charge(le.Items.Count);
                return le.Items.Select(i => Eval(i, scope)).ToList();
            case TupleExpr te:
                Charge(te.Items.Count);
                return te.Items.Select(i => Eval(i, scope)).ToArray();
            case DictExpr de:
                Charge(de.Items.Count);
                var dict = new PyDict();
                foreach (var (key, value) in de.Items)
                {
                    dict.Set(Eval(key, scope), Eval(value, scope));
                }

                return dict;
            case SliceExpr:
                throw new ChatTemplateException("A slice is only valid inside []");
            default:
                throw new ChatTemplateException($"Unknown expression {e.GetType().Name}");
        }
    }

    private SliceValue EvalSlice(SliceExpr s, Scope scope)
    {
        long? Part(Expr? p)
        {
            if (p is null)
            {
                return null;
            }

            var v = Eval(p, scope);
            return v is null ? null : Values.IsIntegral(v) ? Values.AsLong(v)
                : throw Values.TypeError("slice indices must be integers or None");
        }

        return new SliceValue(Part(s.Start), Part(s.Stop), Part(s.Step));
    }

    private object? EvalBinary(BinaryExpr b, Scope scope)
    {
        var left = Eval(b.Left, scope);
        switch (b.Op)
        {
            case BinaryOp.And:
                return Values.Truthy(left) ? Eval(b.Right, scope) : left;
            case BinaryOp.Or:
                return Values.Truthy(left) ? left : Eval(b.Right, scope);
            case BinaryOp.Concat:
                string a = Values.ToStr(left);
                string c = Values.ToStr(Eval(b.Right, scope));
                Charge(a.Length + c.Length);
                if (a.Length + (long)c.Length > _maxOutput)
                {
                    throw new ChatTemplateException("String result exceeds the output size limit");
                }

                return a + c;
            default:
                var right = Eval(b.Right, scope);
                var result = Values.Binary(this, b.Op, left, right);
                if ((result is string rs && rs.Length > _maxOutput) || (result is IReadOnlyList<object?> rl && rl.Count > _maxOutput))
                {
                    throw new ChatTemplateException("Result exceeds the output size limit");
                }

                return result;
        }
    }

    private bool EvalCompare(CompareExpr cmp, Scope scope)
    {
        var left = Eval(cmp.First, scope);
        foreach (var (op, operand) in cmp.Rest)
        {
            var right = Eval(operand, scope);
            bool ok = op switch
            {
                CompareOp.Eq => Values.PyEquals(left, right),
                CompareOp.Ne => !Values.PyEquals(left, right),
                CompareOp.Lt => Values.Compare(left, right, "<") < 0,
                CompareOp.Le => Values.Compare(left, right, "<=") <= 0,
                CompareOp.Gt => Values.Compare(left, right, ">") > 0,
                CompareOp.Ge => Values.Compare(left, right, ">=") >= 0,
                CompareOp.In => Values.Contains(right, left),
                _ => !Values.Contains(right, left),
            };
            if (!ok)
            {
                return false;
            }

            left = right;
        }

        return true;
    }
}
