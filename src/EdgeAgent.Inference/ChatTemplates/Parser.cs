using System.Globalization;
using System.Runtime.CompilerServices;

namespace EdgeAgent.Inference.ChatTemplates;

/// <summary>
/// Recursive-descent parser over the lexer's tokens, following jinja2's <c>parser.py</c> grammar
/// and operator precedence (loosest first): conditional, <c>or</c>, <c>and</c>, <c>not</c>,
/// comparisons and <c>in</c>, <c>+ -</c>, <c>~</c>, <c>* / // %</c>, <c>**</c>, unary minus,
/// then primaries with postfix access, filters (<c>|</c>) and tests (<c>is</c>).
/// </summary>
internal sealed class Parser
{
    /// <summary>Nesting bound for statements and expressions; hostile templates must not exhaust the stack.</summary>
    private const int MaxNesting = 200;

    private static readonly HashSet<string> UnsupportedTags = new(StringComparer.Ordinal)
    {
        "call", "include", "import", "from", "extends", "block", "do", "autoescape", "trans",
    };

    private readonly List<Token> _tokens;
    private readonly Lexer _lexer;
    private int _i;
    private int _depth;
    private int _loopDepth;

    private Parser(List<Token> tokens, Lexer lexer)
    {
        _tokens = tokens;
        _lexer = lexer;
    }

    private Token Cur => _tokens[_i];

    private Token Peek(int ahead = 1) => _tokens[Math.Min(_i + ahead, _tokens.Count - 1)];

    public static (IReadOnlyList<Node> Body, Lexer Lexer) Parse(string source)
    {
        var (tokens, lexer) = Lexer.Tokenize(source);
        var parser = new Parser(tokens, lexer);
        var (body, _) = parser.ParseBody([]);
        if (parser.Cur.Kind != TokenKind.Eof)
        {
            throw parser.Error($"Unexpected '{parser.Cur.Value}'", parser.Cur);
        }

        return (body, lexer);
    }

    private ChatTemplateException Error(string message, Token at) => _lexer.Error(message, at.Offset);

    private Token Advance() => _tokens[_i++];

    private Token Expect(TokenKind kind, string what)
    {
        if (Cur.Kind != kind)
        {
            throw Error($"Expected {what}, got {Describe(Cur)}", Cur);
        }

        return Advance();
    }

    private void ExpectOperator(string op)
    {
        if (!Cur.IsOperator(op))
        {
            throw Error($"Expected '{op}', got {Describe(Cur)}", Cur);
        }

        _i++;
    }

    private void ExpectName(string name)
    {
        if (!Cur.IsName(name))
        {
            throw Error($"Expected '{name}', got {Describe(Cur)}", Cur);
        }

        _i++;
    }

    private static string Describe(Token t) => t.Kind switch
    {
        TokenKind.Eof => "end of template",
        TokenKind.BlockEnd => "end of statement block",
        TokenKind.VariableEnd => "end of print statement",
        TokenKind.BlockBegin => "begin of statement block",
        TokenKind.VariableBegin => "begin of print statement",
        TokenKind.Text => "template data",
        TokenKind.String => "string",
        _ => $"'{t.Value}'",
    };

    private void Enter(Token at)
    {
        if (++_depth > MaxNesting || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw Error("Template nesting is too deep", at);
        }
    }

    private void Leave() => _depth--;

    /// <summary>
    /// Parses nodes until end of input or a <c>{% tag %}</c> whose name is in <paramref name="endTags"/>;
    /// returns with the cursor on that tag's name.
    /// </summary>
    private (List<Node> Body, string? EndTag) ParseBody(string[] endTags)
    {
        var body = new List<Node>();
        while (true)
        {
            var t = Cur;
            switch (t.Kind)
            {
                case TokenKind.Text:
                    body.Add(new TextNode(t.Offset, t.Value));
                    _i++;
                    break;
                case TokenKind.VariableBegin:
                    _i++;
                    var value = ParseTuple(withCondExpr: true, explicitParens: false, extraEnd: null);
                    Expect(TokenKind.VariableEnd, "'}}'");
                    body.Add(new OutputNode(t.Offset, value));
                    break;
                case TokenKind.BlockBegin:
                    var name = Peek();
                    if (name.Kind == TokenKind.Name && Array.IndexOf(endTags, name.Value) >= 0)
                    {
                        _i++;
                        return (body, name.Value);
                    }

                    _i++;
                    body.Add(ParseStatement());
                    break;
                case TokenKind.Eof:
                    if (endTags.Length > 0)
                    {
                        throw Error($"Unexpected end of template. Jinja was looking for the following tags: {string.Join(" or ", endTags.Select(e => $"'{e}'"))}", t);
                    }

                    return (body, null);
                default:
                    throw Error($"Unexpected {Describe(t)}", t);
            }
        }
    }

    private Node ParseStatement()
    {
        var tag = Cur;
        if (tag.Kind != TokenKind.Name)
        {
            throw Error($"Tag name expected, got {Describe(tag)}", tag);
        }

        Enter(tag);
        _i++;
        Node node = tag.Value switch
        {
            "if" => ParseIf(tag),
            "for" => ParseFor(tag),
            "set" => ParseSet(tag),
            "macro" => ParseMacro(tag),
            "filter" => ParseFilterBlock(tag),
            "with" => ParseWith(tag),
            "generation" => ParseGeneration(tag),
            "break" or "continue" => ParseLoopControl(tag),
            _ when UnsupportedTags.Contains(tag.Value) => throw Error($"The '{tag.Value}' tag is not supported in chat templates", tag),
            _ when tag.Value.StartsWith("end", StringComparison.Ordinal) || tag.Value is "else" or "elif"
                => throw Error($"Unexpected tag '{tag.Value}'", tag),
            _ => throw Error($"Encountered unknown tag '{tag.Value}'", tag),
        };
        Leave();
        return node;
    }

    private IfNode ParseIf(Token tag)
    {
        var branches = new List<(Expr, IReadOnlyList<Node>)>();
        IReadOnlyList<Node>? elseBody = null;
        var test = ParseTuple(withCondExpr: false, explicitParens: false, extraEnd: null);
        while (true)
        {
            Expect(TokenKind.BlockEnd, "'%}'");
            var (body, end) = ParseBody(["elif", "else", "endif"]);
            branches.Add((test, body));
            _i++;
            if (end == "elif")
            {
                test = ParseTuple(withCondExpr: false, explicitParens: false, extraEnd: null);
                continue;
            }

            if (end == "else")
            {
                Expect(TokenKind.BlockEnd, "'%}'");
                (elseBody, _) = ParseBody(["endif"]);
                _i++;
            }

            Expect(TokenKind.BlockEnd, "'%}'");
            return new IfNode(tag.Offset, branches, elseBody);
        }
    }

    private ForNode ParseFor(Token tag)
    {
        var target = ParseAssignTarget(withNamespace: false);
        ExpectName("in");
        var iterable = ParseTuple(withCondExpr: false, explicitParens: false, extraEnd: ["recursive", "if"]);
        if (Cur.IsName("recursive"))
        {
            throw Error("Recursive for loops are not supported", Cur);
        }

        Expr? filter = null;
        if (Cur.IsName("if"))
        {
            _i++;
            filter = ParseExpression(withCondExpr: true);
        }

        Expect(TokenKind.BlockEnd, "'%}'");
        _loopDepth++;
        var (body, end) = ParseBody(["endfor", "else"]);
        _loopDepth--;
        _i++;
        IReadOnlyList<Node>? elseBody = null;
        if (end == "else")
        {
            Expect(TokenKind.BlockEnd, "'%}'");
            (elseBody, _) = ParseBody(["endfor"]);
            _i++;
        }

        Expect(TokenKind.BlockEnd, "'%}'");
        return new ForNode(tag.Offset, target, iterable, filter, body, elseBody);
    }

    private Node ParseSet(Token tag)
    {
        var target = ParseAssignTarget(withNamespace: true);
        if (Cur.IsOperator("="))
        {
            _i++;
            var value = ParseTuple(withCondExpr: true, explicitParens: false, extraEnd: null);
            Expect(TokenKind.BlockEnd, "'%}'");
            return new SetNode(tag.Offset, target, value);
        }

        var filters = new List<FilterExpr>();
        while (Cur.IsOperator("|"))
        {
            _i++;
            filters.Add(ParseFilter(null));
        }

        Expect(TokenKind.BlockEnd, "'%}'");
        var (body, _) = ParseBody(["endset"]);
        _i++;
        Expect(TokenKind.BlockEnd, "'%}'");
        return new SetBlockNode(tag.Offset, target, filters, body);
    }

    private MacroNode ParseMacro(Token tag)
    {
        string name = Expect(TokenKind.Name, "macro name").Value;
        ExpectOperator("(");
        var parameters = new List<(string, Expr?)>();
        while (!Cur.IsOperator(")"))
        {
            if (parameters.Count > 0)
            {
                ExpectOperator(",");
                if (Cur.IsOperator(")"))
                {
                    break;
                }
            }

            string p = Expect(TokenKind.Name, "parameter name").Value;
            Expr? def = null;
            if (Cur.IsOperator("="))
            {
                _i++;
                def = ParseExpression(withCondExpr: true);
            }

            parameters.Add((p, def));
        }

        _i++;
        Expect(TokenKind.BlockEnd, "'%}'");
        int savedLoops = _loopDepth;
        _loopDepth = 0;
        var (body, _) = ParseBody(["endmacro"]);
        _loopDepth = savedLoops;
        _i++;
        Expect(TokenKind.BlockEnd, "'%}'");
        return new MacroNode(tag.Offset, name, parameters, body);
    }

    private FilterBlockNode ParseFilterBlock(Token tag)
    {
        var filters = new List<FilterExpr> { ParseFilter(null) };
        while (Cur.IsOperator("|"))
        {
            _i++;
            filters.Add(ParseFilter(null));
        }

        Expect(TokenKind.BlockEnd, "'%}'");
        var (body, _) = ParseBody(["endfilter"]);
        _i++;
        Expect(TokenKind.BlockEnd, "'%}'");
        return new FilterBlockNode(tag.Offset, filters, body);
    }

    private WithNode ParseWith(Token tag)
    {
        var assignments = new List<(Target, Expr)>();
        while (Cur.Kind != TokenKind.BlockEnd)
        {
            if (assignments.Count > 0)
            {
                ExpectOperator(",");
            }

            var target = ParseAssignTarget(withNamespace: false);
            ExpectOperator("=");
            assignments.Add((target, ParseExpression(withCondExpr: true)));
        }

        _i++;
        var (body, _) = ParseBody(["endwith"]);
        _i++;
        Expect(TokenKind.BlockEnd, "'%}'");
        return new WithNode(tag.Offset, assignments, body);
    }

    private SequenceNode ParseGeneration(Token tag)
    {
        Expect(TokenKind.BlockEnd, "'%}'");
        var (body, _) = ParseBody(["endgeneration"]);
        _i++;
        Expect(TokenKind.BlockEnd, "'%}'");
        return new SequenceNode(tag.Offset, body);
    }

    private Node ParseLoopControl(Token tag)
    {
        if (_loopDepth == 0)
        {
            throw Error($"'{tag.Value}' outside of a loop", tag);
        }

        Expect(TokenKind.BlockEnd, "'%}'");
        return tag.Value == "break" ? new BreakNode(tag.Offset) : new ContinueNode(tag.Offset);
    }

    private Target ParseAssignTarget(bool withNamespace)
    {
        var start = Cur;
        if (withNamespace && start.Kind == TokenKind.Name && Peek().IsOperator("."))
        {
            _i += 2;
            string attr = Expect(TokenKind.Name, "attribute name").Value;
            return new AttributeTarget(start.Offset, start.Value, attr);
        }

        var items = new List<Target> { ParseTargetItem() };
        while (Cur.IsOperator(","))
        {
            _i++;
            if (Cur.IsName("in") || Cur.IsOperator("="))
            {
                break;
            }

            items.Add(ParseTargetItem());
        }

        return items.Count == 1 && !Peek(-1).IsOperator(",") ? items[0] : new TupleTarget(start.Offset, items);
    }

    private Target ParseTargetItem()
    {
        var t = Cur;
        if (t.IsOperator("("))
        {
            _i++;
            var items = new List<Target>();
            while (!Cur.IsOperator(")"))
            {
                if (items.Count > 0)
                {
                    ExpectOperator(",");
                    if (Cur.IsOperator(")"))
                    {
                        break;
                    }
                }

                items.Add(ParseTargetItem());
            }

            _i++;
            return new TupleTarget(t.Offset, items);
        }

        var name = Expect(TokenKind.Name, "assignment target");
        if (name.Value is "true" or "false" or "none" or "True" or "False" or "None")
        {
            throw Error($"Cannot assign to '{name.Value}'", name);
        }

        return new NameTarget(name.Offset, name.Value);
    }

    // ---- expressions ----

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
