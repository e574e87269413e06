using System.Runtime.CompilerServices;

namespace EdgeAgent.Inference.ChatTemplates;

/// <summary>
/// Recursive-descent parser over the lexer's tokens, following jinja2's <c>parser.py</c> grammar
/// and operator precedence (loosest first): conditional, <c>or</c>, <c>and</c>, <c>not</c>,
/// comparisons and <c>in</c>, <c>+ -</c>, <c>~</c>, <c>* / // %</c>, <c>**</c>, unary minus,
/// then primaries with postfix access, filters (<c>|</c>) and tests (<c>is</c>).
/// </summary>
internal sealed partial class Parser
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
}
