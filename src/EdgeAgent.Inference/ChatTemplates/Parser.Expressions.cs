using System.Globalization;

namespace EdgeAgent.Inference.ChatTemplates;

/// <summary>The expression half of the grammar (jinja2 <c>parse_tuple</c> down to <c>parse_primary</c>).</summary>
internal sealed partial class Parser
{
    private bool IsTupleEnd(string[]? extraEnd)
    {
        var t = Cur;
        if (t.Kind is TokenKind.VariableEnd or TokenKind.BlockEnd || t.IsOperator(")"))
        {
            return true;
        }

        return extraEnd is not null && t.Kind == TokenKind.Name && Array.IndexOf(extraEnd, t.Value) >= 0;
    }

    private Expr ParseTuple(bool withCondExpr, bool explicitParens, string[]? extraEnd)
    {
        var start = Cur;
        var items = new List<Expr>();
        bool isTuple = false;
        while (true)
        {
            if (items.Count > 0)
            {
                ExpectOperator(",");
            }

            if (IsTupleEnd(extraEnd))
            {
                break;
            }

            items.Add(ParseExpression(withCondExpr));
            if (Cur.IsOperator(","))
            {
                isTuple = true;
            }
            else
            {
                break;
            }
        }

        if (!isTuple)
        {
            if (items.Count == 1)
            {
                return items[0];
            }

            if (!explicitParens)
            {
                throw Error($"Expected an expression, got {Describe(Cur)}", Cur);
            }
        }

        return new TupleExpr(start.Offset, items);
    }

    private Expr ParseExpression(bool withCondExpr)
    {
        Enter(Cur);
        var e = withCondExpr ? ParseCondExpr() : ParseOr();
        Leave();
        return e;
    }

    private Expr ParseCondExpr()
    {
        var expr = ParseOr();
        while (Cur.IsName("if"))
        {
            var at = Advance();
            var test = ParseOr();
            Expr? otherwise = null;
            if (Cur.IsName("else"))
            {
                _i++;
                otherwise = ParseCondExpr();
            }

            expr = new CondExpr(at.Offset, test, expr, otherwise);
        }

        return expr;
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (Cur.IsName("or"))
        {
            var at = Advance();
            left = new BinaryExpr(at.Offset, BinaryOp.Or, left, ParseAnd());
        }

        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (Cur.IsName("and"))
        {
            var at = Advance();
            left = new BinaryExpr(at.Offset, BinaryOp.And, left, ParseNot());
        }

        return left;
    }

    private Expr ParseNot()
    {
        if (Cur.IsName("not"))
        {
            var at = Advance();
            Enter(at);
            var operand = ParseNot();
            Leave();
            return new UnaryExpr(at.Offset, UnaryOp.Not, operand);
        }

        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        var first = ParseMath1();
        var rest = new List<(CompareOp, Expr)>();
        while (true)
        {
            var t = Cur;
            CompareOp? op = t.Kind == TokenKind.Operator
                ? t.Value switch
                {
                    "==" => CompareOp.Eq,
                    "!=" => CompareOp.Ne,
                    "<" => CompareOp.Lt,
                    "<=" => CompareOp.Le,
                    ">" => CompareOp.Gt,
                    ">=" => CompareOp.Ge,
                    _ => null,
                }
                : null;
            if (op is not null)
            {
                _i++;
            }
            else if (t.IsName("in"))
            {
                _i++;
                op = CompareOp.In;
            }
            else if (t.IsName("not") && Peek().IsName("in"))
            {
                _i += 2;
                op = CompareOp.NotIn;
            }
            else
            {
                break;
            }

            rest.Add((op.Value, ParseMath1()));
        }

        return rest.Count == 0 ? first : new CompareExpr(first.Offset, first, rest);
    }

    private Expr ParseMath1()
    {
        var left = ParseConcat();
        while (Cur.IsOperator("+") || Cur.IsOperator("-"))
        {
            var at = Advance();
            left = new BinaryExpr(at.Offset, at.Value == "+" ? BinaryOp.Add : BinaryOp.Sub, left, ParseConcat());
        }

        return left;
    }

    private Expr ParseConcat()
    {
        var left = ParseMath2();
        while (Cur.IsOperator("~"))
        {
            var at = Advance();
            left = new BinaryExpr(at.Offset, BinaryOp.Concat, left, ParseMath2());
        }

        return left;
    }

    private Expr ParseMath2()
    {
        var left = ParsePow();
        while (Cur.Kind == TokenKind.Operator && Cur.Value is "*" or "/" or "//" or "%")
        {
            var at = Advance();
            var op = at.Value switch { "*" => BinaryOp.Mul, "/" => BinaryOp.Div, "//" => BinaryOp.FloorDiv, _ => BinaryOp.Mod };
            left = new BinaryExpr(at.Offset, op, left, ParsePow());
        }

        return left;
    }

    private Expr ParsePow()
    {
        var left = ParseUnary(withFilter: true);
        while (Cur.IsOperator("**"))
        {
            var at = Advance();
            left = new BinaryExpr(at.Offset, BinaryOp.Pow, left, ParseUnary(withFilter: true));
        }

        return left;
    }

    private Expr ParseUnary(bool withFilter)
    {
        var t = Cur;
        Enter(t);
        Expr node;
        if (t.IsOperator("-") || t.IsOperator("+"))
        {
            _i++;
            node = new UnaryExpr(t.Offset, t.Value == "-" ? UnaryOp.Negate : UnaryOp.Plus, ParseUnary(withFilter: false));
        }
        else
        {
            node = ParsePrimary();
        }

        node = ParsePostfix(node);
        if (withFilter)
        {
            node = ParseFilterExpr(node);
        }

        Leave();
        return node;
    }

    private Expr ParsePrimary()
    {
        var t = Cur;
        switch (t.Kind)
        {
            case TokenKind.Name:
                _i++;
                return t.Value switch
                {
                    "true" or "True" => new LiteralExpr(t.Offset, true),
                    "false" or "False" => new LiteralExpr(t.Offset, false),
                    "none" or "None" => new LiteralExpr(t.Offset, null),
                    _ => new NameExpr(t.Offset, t.Value),
                };
            case TokenKind.String:
                _i++;
                string s = t.Value;
                while (Cur.Kind == TokenKind.String)
                {
                    s += Advance().Value;
                }

                return new LiteralExpr(t.Offset, s);
            case TokenKind.Integer:
                _i++;
                if (!long.TryParse(t.Value, NumberStyles.None, CultureInfo.InvariantCulture, out long l))
                {
                    throw Error("Integer literal is too large", t);
                }

                return new LiteralExpr(t.Offset, l);
            case TokenKind.Float:
                _i++;
                return new LiteralExpr(t.Offset, double.Parse(t.Value, NumberStyles.Float, CultureInfo.InvariantCulture));
            case TokenKind.Operator when t.Value == "(":
                _i++;
                var inner = ParseTuple(withCondExpr: true, explicitParens: true, extraEnd: null);
                ExpectOperator(")");
                return inner;
            case TokenKind.Operator when t.Value == "[":
                _i++;
                var items = new List<Expr>();
                while (!Cur.IsOperator("]"))
                {
                    if (items.Count > 0)
                    {
                        ExpectOperator(",");
                        if (Cur.IsOperator("]"))
                        {
                            break;
                        }
                    }

                    items.Add(ParseExpression(withCondExpr: true));
                }

                _i++;
                return new ListExpr(t.Offset, items);
            case TokenKind.Operator when t.Value == "{":
                _i++;
                var pairs = new List<(Expr, Expr)>();
                while (!Cur.IsOperator("}"))
                {
                    if (pairs.Count > 0)
                    {
                        ExpectOperator(",");
                        if (Cur.IsOperator("}"))
                        {
                            break;
                        }
                    }

                    var key = ParseExpression(withCondExpr: true);
                    ExpectOperator(":");
                    pairs.Add((key, ParseExpression(withCondExpr: true)));
                }

                _i++;
                return new DictExpr(t.Offset, pairs);
            default:
                throw Error($"Unexpected {Describe(t)}", t);
        }
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            var t = Cur;
            if (t.IsOperator("."))
            {
                _i++;
                var attr = Cur;
                if (attr.Kind == TokenKind.Name)
                {
                    _i++;
                    node = new GetAttrExpr(t.Offset, node, attr.Value);
                }
                else if (attr.Kind == TokenKind.Integer)
                {
                    _i++;
                    node = new GetItemExpr(t.Offset, node, new LiteralExpr(attr.Offset, long.Parse(attr.Value, CultureInfo.InvariantCulture)));
                }
                else
                {
                    throw Error($"Expected attribute name, got {Describe(attr)}", attr);
                }
            }
            else if (t.IsOperator("["))
            {
                _i++;
                var keys = new List<Expr>();
                while (!Cur.IsOperator("]"))
                {
                    if (keys.Count > 0)
                    {
                        ExpectOperator(",");
                    }

                    keys.Add(ParseSubscribed());
                }

                _i++;
                if (keys.Count == 0)
                {
                    throw Error("Expected a subscript", t);
                }

                node = new GetItemExpr(t.Offset, node, keys.Count == 1 ? keys[0] : new TupleExpr(t.Offset, keys));
            }
            else if (t.IsOperator("("))
            {
                node = ParseCall(node);
            }
            else
            {
                return node;
            }
        }
    }

    private Expr ParseSubscribed()
    {
        var t = Cur;
        Expr? start = null;
        if (!t.IsOperator(":"))
        {
            start = ParseExpression(withCondExpr: true);
            if (!Cur.IsOperator(":"))
            {
                return start;
            }
        }

        _i++;
        Expr? stop = null;
        Expr? step = null;
        if (!Cur.IsOperator("]") && !Cur.IsOperator(",") && !Cur.IsOperator(":"))
        {
            stop = ParseExpression(withCondExpr: true);
        }

        if (Cur.IsOperator(":"))
        {
            _i++;
            if (!Cur.IsOperator("]") && !Cur.IsOperator(","))
            {
                step = ParseExpression(withCondExpr: true);
            }
        }

        return new SliceExpr(t.Offset, start, stop, step);
    }

    private (List<Expr> Args, List<(string, Expr)> Kwargs) ParseCallArgs()
    {
        ExpectOperator("(");
        var args = new List<Expr>();
        var kwargs = new List<(string, Expr)>();
        while (!Cur.IsOperator(")"))
        {
            if (args.Count + kwargs.Count > 0)
            {
                ExpectOperator(",");
                if (Cur.IsOperator(")"))
                {
                    break;
                }
            }

            if (Cur.IsOperator("*") || Cur.IsOperator("**"))
            {
                throw Error("Argument unpacking is not supported", Cur);
            }

            if (Cur.Kind == TokenKind.Name && Peek().IsOperator("="))
            {
                string key = Advance().Value;
                _i++;
                kwargs.Add((key, ParseExpression(withCondExpr: true)));
            }
            else
            {
                if (kwargs.Count > 0)
                {
                    throw Error("Positional argument follows keyword argument", Cur);
                }

                args.Add(ParseExpression(withCondExpr: true));
            }
        }

        _i++;
        return (args, kwargs);
    }

    private CallExpr ParseCall(Expr callee)
    {
        var at = Cur;
        var (args, kwargs) = ParseCallArgs();
        return new CallExpr(at.Offset, callee, args, kwargs);
    }

    private Expr ParseFilterExpr(Expr node)
    {
        while (true)
        {
            if (Cur.IsOperator("|"))
            {
                _i++;
                node = ParseFilter(node);
            }
            else if (Cur.IsName("is"))
            {
                node = ParseTest(node);
            }
            else if (Cur.IsOperator("("))
            {
                node = ParseCall(node);
            }
            else
            {
                return node;
            }
        }
    }

    private string ParseDottedName()
    {
        string name = Expect(TokenKind.Name, "a name").Value;
        while (Cur.IsOperator(".") && Peek().Kind == TokenKind.Name)
        {
            _i++;
            name += "." + Advance().Value;
        }

        return name;
    }

    private FilterExpr ParseFilter(Expr? operand)
    {
        var at = Cur;
        string name = ParseDottedName();
        if (Cur.IsOperator("("))
        {
            var (args, kwargs) = ParseCallArgs();
            return new FilterExpr(at.Offset, operand, name, args, kwargs);
        }

        return new FilterExpr(at.Offset, operand, name, [], []);
    }

    private TestExpr ParseTest(Expr operand)
    {
        var at = Advance();
        bool negated = false;
        if (Cur.IsName("not"))
        {
            _i++;
            negated = true;
        }

        string name = ParseDottedName();
        var args = new List<Expr>();
        var t = Cur;
        if (t.IsOperator("("))
        {
            var (a, kwargs) = ParseCallArgs();
            if (kwargs.Count > 0)
            {
                throw Error("Keyword arguments to tests are not supported", t);
            }

            args = a;
        }
        else if ((t.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float
                  || t.IsOperator("[") || t.IsOperator("{"))
                 && !t.IsName("else") && !t.IsName("or") && !t.IsName("and"))
        {
            if (t.IsName("is"))
            {
                throw Error("You cannot chain multiple tests with is", t);
            }

            args.Add(ParsePostfix(ParsePrimary()));
        }

        return new TestExpr(at.Offset, operand, name, args, negated);
    }
}
