namespace EdgeAgent.Inference.Constraints;

/// <summary>
/// A byte-level pushdown recognizer for a <see cref="SchemaNode"/> grammar. A parse position is an immutable
/// stack of frames (<see cref="ParseStack"/>), so positions can be shared and branched freely — the token mask
/// walks a vocabulary trie from one position without copying. Alternatives (anyOf, a literal that may end or go
/// on) are followed in parallel as a set of stacks.
/// </summary>
public sealed class JsonRecognizer
{
    public JsonRecognizer(SchemaNode root, GrammarOptions? options = null)
    {
        Root = root;
        MaxWhitespace = (options ?? new GrammarOptions()).MaxWhitespace;
        Start = [new ParseStack(new StartFrame(root), new ParseStack(AcceptFrame.Instance, null))];
    }

    public SchemaNode Root { get; }

    internal int MaxWhitespace { get; }

    /// <summary>The positions before any byte.</summary>
    public IReadOnlyList<ParseStack> Start { get; }

    /// <summary>Feeds one byte to every position; the survivors go to <paramref name="output"/>.</summary>
    public void Feed(IReadOnlyList<ParseStack> positions, byte b, List<ParseStack> output)
    {
        for (int i = 0; i < positions.Count; i++)
        {
            positions[i].Top.Feed(this, b, positions[i].Rest!, output);
        }
    }

    /// <summary>True when some position holds a complete document.</summary>
    public static bool CanEnd(IReadOnlyList<ParseStack> positions)
    {
        foreach (var p in positions)
        {
            if (CanEnd(p))
            {
                return true;
            }
        }
        return false;
    }

    private static bool CanEnd(ParseStack? s)
    {
        for (; s is not null; s = s.Rest)
        {
            if (s.Top is AcceptFrame)
            {
                return true;
            }
            if (!s.Top.CanFinish)
            {
                return false;
            }
        }
        return false;
    }

    /// <summary>True when <paramref name="utf8"/> is a complete document of the grammar.</summary>
    public bool Accepts(ReadOnlySpan<byte> utf8)
    {
        var positions = Advance(Start, utf8);
        return positions.Count > 0 && CanEnd(positions);
    }

    /// <summary>The positions after feeding <paramref name="utf8"/> (empty when rejected).</summary>
    public List<ParseStack> Advance(IReadOnlyList<ParseStack> from, ReadOnlySpan<byte> utf8)
    {
        var cur = new List<ParseStack>(from);
        var next = new List<ParseStack>();
        foreach (byte b in utf8)
        {
            next.Clear();
            Feed(cur, b, next);
            (cur, next) = (next, cur);
            if (cur.Count == 0)
            {
                break;
            }
        }
        return cur;
    }

    /// <summary>Starts a value of <paramref name="schema"/> with byte <paramref name="b"/>, above
    /// <paramref name="rest"/> (the continuation).</summary>
    internal void StartValue(SchemaNode schema, byte b, ParseStack rest, List<ParseStack> output)
    {
        if (schema is AnyOfNode alternatives)
        {
            foreach (var option in alternatives.Options)
            {
                StartValue(option, b, rest, output);
            }
            return;
        }
        Frame frame = schema switch
        {
            ObjectNode o => new ObjectFrame(o, ObjectFrame.Phase.Open, 0, 0, 0, 0, 0),
            ArrayNode a => new ArrayFrame(a, ArrayFrame.Phase.Open, 0, 0),
            StringNode s => new StringFrame(s, StringFrame.Phase.Open, 0, 0, 0, 0, 0),
            LiteralNode l => new LiteralFrame(l, 0, l.Literals.Length, 0),
            IntegerNode i => new IntegerFrame(i, false, 0, 0),
            NumberNode n => new NumberFrame(n, false, NumberFrame.Phase.Int, 0, 0, 0),
            _ => throw new InvalidOperationException($"unknown schema node {schema.GetType().Name}"),
        };
        frame.Feed(this, b, rest, output);
    }

    internal static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\n' or (byte)'\t' or (byte)'\r';
}

/// <summary>An immutable stack of frames: <see cref="Top"/> is being matched, <see cref="Rest"/> continues.</summary>
public sealed class ParseStack(Frame top, ParseStack? rest)
{
    public Frame Top { get; } = top;
    public ParseStack? Rest { get; } = rest;
}

/// <summary>The state of matching one schema node. Immutable.</summary>
public abstract class Frame
{
    private protected Frame() { }

    /// <summary>Feeds a byte: each way the frame can take it adds a stack to <paramref name="output"/>.</summary>
    internal abstract void Feed(JsonRecognizer g, byte b, ParseStack rest, List<ParseStack> output);

    /// <summary>The value is complete here without more input (numbers and literals end lazily, when a byte that
    /// cannot extend them arrives).</summary>
    internal virtual bool CanFinish => false;
}

/// <summary>The bottom of every stack: the document is complete; nothing may follow.</summary>
internal sealed class AcceptFrame : Frame
{
    public static readonly AcceptFrame Instance = new();
    internal override void Feed(JsonRecognizer g, byte b, ParseStack rest, List<ParseStack> output) { }
}

/// <summary>Before the document: the first byte starts the root value (no leading whitespace).</summary>
internal sealed class StartFrame(SchemaNode root) : Frame
{
    internal override void Feed(JsonRecognizer g, byte b, ParseStack rest, List<ParseStack> output) =>
        g.StartValue(root, b, rest, output);
}
