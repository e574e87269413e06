using System.Globalization;
using System.Text;

namespace EdgeAgent.Inference.ChatTemplates;

internal enum TokenKind
{
    Text,
    VariableBegin,
    VariableEnd,
    BlockBegin,
    BlockEnd,
    Name,
    String,
    Integer,
    Float,
    Operator,
    Eof,
}

/// <summary>One lexical token; <see cref="Value"/> is the decoded text of strings and the source text otherwise.</summary>
internal readonly record struct Token(TokenKind Kind, string Value, int Offset)
{
    public bool IsOperator(string op) => Kind == TokenKind.Operator && Value == op;

    public bool IsName(string name) => Kind == TokenKind.Name && Value == name;
}

/// <summary>
/// Splits template source into text and tag tokens with the whitespace rules Hugging Face uses
/// (jinja2 with <c>trim_blocks=True</c>, <c>lstrip_blocks=True</c>, <c>keep_trailing_newline=False</c>).
/// </summary>
/// <remarks>
/// Follows jinja2 3.x <c>lexer.py</c>: newlines are normalised to \n and one trailing newline is
/// dropped; <c>{%-</c>/<c>-%}</c> strip all adjacent whitespace; without a '-' or '+' marker a block
/// or comment tag also strips the spaces and tabs before it on its line (lstrip_blocks) and the
/// first newline after it (trim_blocks). Inside tags, the end marker only counts when brackets
/// are balanced, so <c>{{ {'a': {'b': 1}} }}</c> lexes as one expression.
/// </remarks>
internal sealed class Lexer
{
    private static readonly string[] Operators =
    [
        "**", "//", "==", "!=", ">=", "<=",
        "+", "-", "*", "/", "%", "~", "<", ">", "=", ".", ",", ":", "|", "(", ")", "[", "]", "{", "}",
    ];

    private readonly string _src;
    private readonly List<Token> _tokens = [];
    private readonly int[] _lineStarts;
    private int _pos;

    private Lexer(string source)
    {
        _src = source;
        var starts = new List<int> { 0 };
        for (int i = 0; i < source.Length; i++)
        {
            if (source[i] == '\n')
            {
                starts.Add(i + 1);
            }
        }

        _lineStarts = [.. starts];
    }

    public string Source => _src;

    /// <summary>Normalises newlines as jinja2 does, then tokenizes.</summary>
    public static (List<Token> Tokens, Lexer Lexer) Tokenize(string source)
    {
        string normalized = source.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
        if (normalized.EndsWith('\n'))
        {
            normalized = normalized[..^1];
        }

        var lexer = new Lexer(normalized);
        lexer.Run();
        return (lexer._tokens, lexer);
    }

    /// <summary>1-based line and column of a source offset.</summary>
    public (int Line, int Column) Position(int offset)
    {
        int idx = Array.BinarySearch(_lineStarts, offset);
        int line = idx >= 0 ? idx : ~idx - 1;
        return (line + 1, offset - _lineStarts[line] + 1);
    }

    public ChatTemplateException Error(string message, int offset)
    {
        var (line, col) = Position(offset);
        return new ChatTemplateException(message, line, col);
    }

    private void Run()
    {
        while (_pos < _src.Length)
        {
            int tag = FindTagStart(_pos);
            if (tag < 0)
            {
                _tokens.Add(new Token(TokenKind.Text, _src[_pos..], _pos));
                break;
            }

            char kind = _src[tag + 1];
            char marker = tag + 2 < _src.Length ? _src[tag + 2] : '\0';
            bool hasMarker = marker == '-' || marker == '+';
            string text = _src[_pos..tag];
            if (marker == '-')
            {
                text = PyText.RStrip(text, null);
            }
            else if (marker != '+' && kind != '{')
            {
                text = LStripBlock(text, _pos);
            }

            if (text.Length > 0)
            {
                _tokens.Add(new Token(TokenKind.Text, text, _pos));
            }

            int inner = tag + 2 + (hasMarker ? 1 : 0);
            if (kind == '#')
            {
                _pos = SkipComment(tag, inner);
            }
            else if (kind == '%' && TryRaw(tag, inner))
            {
                continue;
            }
            else
            {
                LexTag(tag, inner, block: kind == '%');
            }
        }

        _tokens.Add(new Token(TokenKind.Eof, "", _src.Length));
    }

    private int FindTagStart(int from)
    {
        int i = from;
        while (true)
        {
            i = _src.IndexOf('{', i);
            if (i < 0 || i + 1 >= _src.Length)
            {
                return -1;
            }

            char next = _src[i + 1];
            if (next is '{' or '%' or '#')
            {
                return i;
            }

            i++;
        }
    }

    /// <summary>lstrip_blocks: drop spaces/tabs between the line start and the tag.</summary>
    private string LStripBlock(string text, int textStart)
    {
        int lineStart = text.LastIndexOf('\n') + 1;
        bool lineStarting = textStart == 0 || _src[textStart - 1] == '\n';
        if (lineStart == 0 && !lineStarting)
        {
            return text;
        }

        for (int i = lineStart; i < text.Length; i++)
        {
            if (text[i] != ' ' && text[i] != '\t')
            {
                return text;
            }
        }

        return text[..lineStart];
    }

    /// <summary>Consumes the end of a block or comment tag: '-' strips whitespace, '+' keeps it, plain trims one newline.</summary>
    private int AfterBlockEnd(int endStart, int endLength, char marker)
    {
        int p = endStart + endLength;
        if (marker == '-')
        {
            while (p < _src.Length && PyText.IsSpace(_src[p]))
            {
                p++;
            }
        }
        else if (marker != '+' && p < _src.Length && _src[p] == '\n')
        {
            p++;
        }

        return p;
    }

    private int SkipComment(int tag, int inner)
    {
        int end = _src.IndexOf("#}", inner, StringComparison.Ordinal);
        if (end < 0)
        {
            throw Error("Missing end of comment tag", tag);
        }

        char marker = end > inner && _src[end - 1] is '-' or '+' ? _src[end - 1] : '\0';
        return AfterBlockEnd(end, 2, marker);
    }

    /// <summary>Handles <c>{% raw %}...{% endraw %}</c>, emitting the body as literal text.</summary>
    private bool TryRaw(int tag, int inner)
    {
        int p = SkipSpaces(inner);
        if (string.CompareOrdinal(_src, p, "raw", 0, 3) != 0)
        {
            return false;
        }

        p = SkipSpaces(p + 3);
        char endMarker = '\0';
        if (p < _src.Length && _src[p] is '-' or '+')
        {
            endMarker = _src[p];
            p++;
        }

        if (string.CompareOrdinal(_src, p, "%}", 0, 2) != 0)
        {
            return false;
        }

        // jinja2's raw_begin rule has no trim_blocks suffix: only '-%}' strips what follows.
        int bodyStart = endMarker == '-' ? SkipSpaces(p + 2) : p + 2;
        int search = bodyStart;
        while (true)
        {
            int close = _src.IndexOf("{%", search, StringComparison.Ordinal);
            if (close < 0)
            {
                throw Error("Missing end of raw directive", tag);
            }

            char marker = close + 2 < _src.Length ? _src[close + 2] : '\0';
            int q = SkipSpaces(close + 2 + (marker is '-' or '+' ? 1 : 0));
            if (string.CompareOrdinal(_src, q, "endraw", 0, 6) != 0)
            {
                search = close + 2;
                continue;
            }

            q = SkipSpaces(q + 6);
            char closeEndMarker = '\0';
            if (q < _src.Length && _src[q] is '-' or '+')
            {
                closeEndMarker = _src[q];
                q++;
            }

            if (string.CompareOrdinal(_src, q, "%}", 0, 2) != 0)
            {
                throw Error("Expected '%}' after 'endraw'", q);
            }

            string body = _src[bodyStart..close];
            body = marker == '-' ? PyText.RStrip(body, null) : marker == '+' ? body : LStripBlock(body, bodyStart);
            if (body.Length > 0)
            {
                _tokens.Add(new Token(TokenKind.Text, body, bodyStart));
            }

            _pos = AfterBlockEnd(q, 2, closeEndMarker);
            return true;
        }
    }

    private int SkipSpaces(int p)
    {
        while (p < _src.Length && PyText.IsSpace(_src[p]))
        {
            p++;
        }

        return p;
    }

    private void LexTag(int tag, int inner, bool block)
    {
        _tokens.Add(new Token(block ? TokenKind.BlockBegin : TokenKind.VariableBegin, "", tag));
        var balance = new Stack<char>();
        int p = inner;
        while (true)
        {
            p = SkipSpaces(p);
            if (p >= _src.Length)
            {
                throw Error(block ? "Unexpected end of template, expected '%}'" : "Unexpected end of template, expected '}}'", tag);
            }

            if (balance.Count == 0 && TryTagEnd(p, block, out int next))
            {
                _tokens.Add(new Token(block ? TokenKind.BlockEnd : TokenKind.VariableEnd, "", p));
                _pos = next;
                return;
            }

            p = LexOne(p, balance);
        }
    }

    private bool TryTagEnd(int p, bool block, out int next)
    {
        string close = block ? "%}" : "}}";
        char marker = _src[p] is '-' or '+' ? _src[p] : '\0';
        int at = marker != '\0' ? p + 1 : p;
        next = 0;
        if (string.CompareOrdinal(_src, at, close, 0, 2) != 0 || (!block && marker == '+'))
        {
            return false;
        }

        if (block)
        {
            next = AfterBlockEnd(at, 2, marker);
        }
        else
        {
            next = at + 2;
            if (marker == '-')
            {
                next = SkipSpaces(next);
            }
        }

        return true;
    }

    private int LexOne(int p, Stack<char> balance)
    {
        char c = _src[p];
        if (char.IsLetter(c) || c == '_')
        {
            int e = p + 1;
            while (e < _src.Length && (char.IsLetterOrDigit(_src[e]) || _src[e] == '_'))
            {
                e++;
            }

            _tokens.Add(new Token(TokenKind.Name, _src[p..e], p));
            return e;
        }

        if (char.IsAsciiDigit(c))
        {
            return LexNumber(p);
        }

        if (c is '\'' or '"')
        {
            return LexString(p, c);
        }

        foreach (string op in Operators)
        {
            if (string.CompareOrdinal(_src, p, op, 0, op.Length) != 0)
            {
                continue;
            }

            if (op is "(" or "[" or "{")
            {
                balance.Push(op switch { "(" => ')', "[" => ']', _ => '}' });
            }
            else if (op is ")" or "]" or "}")
            {
                if (balance.Count == 0)
                {
                    throw Error($"unexpected '{op}'", p);
                }

                char expected = balance.Pop();
                if (expected != op[0])
                {
                    throw Error($"unexpected '{op}', expected '{expected}'", p);
                }
            }

            _tokens.Add(new Token(TokenKind.Operator, op, p));
            return p + op.Length;
        }

        throw Error($"unexpected char '{c}'", p);
    }

    private int LexNumber(int p)
    {
        int e = ScanDigits(p);
        bool isFloat = false;
        bool afterDot = p > 0 && _src[p - 1] == '.';
        if (!afterDot && e + 1 < _src.Length && _src[e] == '.' && char.IsAsciiDigit(_src[e + 1]))
        {
            e = ScanDigits(e + 1);
            isFloat = true;
        }

        if (!afterDot && e < _src.Length && (_src[e] == 'e' || _src[e] == 'E'))
        {
            int q = e + 1;
            if (q < _src.Length && _src[q] is '+' or '-')
            {
                q++;
            }

            if (q < _src.Length && char.IsAsciiDigit(_src[q]))
            {
                e = ScanDigits(q);
                isFloat = true;
            }
        }

        string text = _src[p..e].Replace("_", "", StringComparison.Ordinal);
        _tokens.Add(new Token(isFloat ? TokenKind.Float : TokenKind.Integer, text, p));
        return e;
    }

    private int ScanDigits(int p)
    {
        int e = p;
        while (e < _src.Length && (char.IsAsciiDigit(_src[e]) || (_src[e] == '_' && e + 1 < _src.Length && char.IsAsciiDigit(_src[e + 1]))))
        {
            e++;
        }

        return e;
    }

    private int LexString(int p, char quote)
    {
        int i = p + 1;
        while (i < _src.Length && _src[i] != quote)
        {
            i += _src[i] == '\\' ? 2 : 1;
        }

        if (i >= _src.Length)
        {
            throw Error("unexpected end of string", p);
        }

        _tokens.Add(new Token(TokenKind.String, Unescape(_src[(p + 1)..i], p), p));
        return i + 1;
    }

    /// <summary>Python <c>unicode-escape</c> decoding, which jinja2 applies to string literals.</summary>
    private string Unescape(string raw, int offset)
    {
        if (!raw.Contains('\\', StringComparison.Ordinal))
        {
            return raw;
        }

        var sb = new StringBuilder(raw.Length);
        for (int i = 0; i < raw.Length; i++)
        {
            char c = raw[i];
            if (c != '\\' || i + 1 >= raw.Length)
            {
                sb.Append(c);
                continue;
            }

            char n = raw[++i];
            switch (n)
            {
                case '\n': break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'v': sb.Append('\v'); break;
                case 'x': i = AppendHex(sb, raw, i, 2, offset); break;
                case 'u': i = AppendHex(sb, raw, i, 4, offset); break;
                case 'U': i = AppendHex(sb, raw, i, 8, offset); break;
                case >= '0' and <= '7':
                    int value = n - '0';
                    int digits = 1;
                    while (digits < 3 && i + 1 < raw.Length && raw[i + 1] is >= '0' and <= '7')
                    {
                        value = (value * 8) + (raw[++i] - '0');
                        digits++;
                    }

                    sb.Append((char)value);
                    break;
                default:
                    // Python keeps unknown escapes verbatim, backslash included.
                    sb.Append('\\').Append(n);
                    break;
            }
        }

        return sb.ToString();
    }

    private int AppendHex(StringBuilder sb, string raw, int i, int count, int offset)
    {
        if (raw.Length - i - 1 < count
            || !uint.TryParse(raw.AsSpan(i + 1, count), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint cp)
            || cp > 0x10FFFF)
        {
            throw Error($"truncated or invalid \\{raw[i]} escape in string literal", offset);
        }

        // A lone surrogate cannot live in a well-formed .NET string; substitute U+FFFD.
        sb.Append(char.ConvertFromUtf32(cp is >= 0xD800 and <= 0xDFFF ? 0xFFFD : (int)cp));
        return i + count;
    }
}
