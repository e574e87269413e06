namespace EdgeAgent.Inference.Constraints;

/// <summary>
/// Matches an object: <c>{</c>, then properties in declared order (optional ones may be skipped, required ones
/// may not), each <c>"key":value</c>, separated by commas, then <c>}</c>. The key is matched inline against the
/// keys allowed next (a sorted range narrowed byte by byte), so the value's schema is known when it starts.
/// </summary>
internal sealed class ObjectFrame(ObjectNode node, ObjectFrame.Phase phase, int next, int lo, int hi, int pos, int ws) : Frame
{
    internal enum Phase : byte { Open, AfterOpen, Key, AfterKey, AfterColon, AfterValue, AfterComma }

    internal override void Feed(JsonRecognizer g, byte b, ParseStack rest, List<ParseStack> output)
    {
        var props = node.Properties;
        bool wsAllowed = phase != Phase.Open && phase != Phase.Key && ws < g.MaxWhitespace;
        if (wsAllowed && JsonRecognizer.IsWhitespace(b))
        {
            output.Add(new ParseStack(new ObjectFrame(node, phase, next, lo, hi, pos, ws + 1), rest));
            return;
        }
        switch (phase)
        {
            case Phase.Open:
                if (b == '{')
                {
                    output.Add(new ParseStack(new ObjectFrame(node, Phase.AfterOpen, 0, 0, 0, 0, 0), rest));
                }
                return;
            case Phase.AfterOpen or Phase.AfterComma:
                if (b == '"' && next < props.Count)
                {
                    var keys = node.KeyTables[next].Keys;
                    output.Add(new ParseStack(new ObjectFrame(node, Phase.Key, next, 0, keys.Length, 1, 0), rest));
                }
                else if (b == '}' && phase == Phase.AfterOpen && node.FirstRequiredFrom[next] == props.Count)
                {
                    output.Add(rest);
                }
                return;
            case Phase.Key:
            {
                var table = node.KeyTables[next];
                if (!LiteralFrame.Narrow(table.Keys, lo, hi, pos, b, out int nlo, out int nhi))
                {
                    return;
                }
                var first = table.Keys[nlo];
                if (first.Length == pos + 1)
                {
                    // The closing quote ends exactly one key (keys are distinct JSON strings).
                    output.Add(new ParseStack(new ObjectFrame(node, Phase.AfterKey, table.PropertyIndex[nlo], 0, 0, 0, 0), rest));
                }
                else
                {
                    output.Add(new ParseStack(new ObjectFrame(node, Phase.Key, next, nlo, nhi, pos + 1, 0), rest));
                }
                return;
            }
            case Phase.AfterKey:
                if (b == ':')
                {
                    output.Add(new ParseStack(new ObjectFrame(node, Phase.AfterColon, next, 0, 0, 0, 0), rest));
                }
                return;
            case Phase.AfterColon:
            {
                // `next` holds the matched property; its value starts with this byte.
                var after = new ObjectFrame(node, Phase.AfterValue, next + 1, 0, 0, 0, 0);
                g.StartValue(props[next].Value, b, new ParseStack(after, rest), output);
                return;
            }
            case Phase.AfterValue:
                if (b == ',' && next < props.Count)
                {
                    output.Add(new ParseStack(new ObjectFrame(node, Phase.AfterComma, next, 0, 0, 0, 0), rest));
                }
                else if (b == '}' && node.FirstRequiredFrom[next] == props.Count)
                {
                    output.Add(rest);
                }
                return;
        }
    }
}

/// <summary>Matches an array: <c>[</c>, MinItems to MaxItems items separated by commas, <c>]</c>.</summary>
internal sealed class ArrayFrame(ArrayNode node, ArrayFrame.Phase phase, int count, int ws) : Frame
{
    internal enum Phase : byte { Open, AfterOpen, AfterItem, AfterComma }

    internal override void Feed(JsonRecognizer g, byte b, ParseStack rest, List<ParseStack> output)
    {
        if (phase != Phase.Open && ws < g.MaxWhitespace && JsonRecognizer.IsWhitespace(b))
        {
            output.Add(new ParseStack(new ArrayFrame(node, phase, count, ws + 1), rest));
            return;
        }
        switch (phase)
        {
            case Phase.Open:
                if (b == '[')
                {
                    output.Add(new ParseStack(new ArrayFrame(node, Phase.AfterOpen, 0, 0), rest));
                }
                return;
            case Phase.AfterOpen:
                if (b == ']' && node.MinItems == 0)
                {
                    output.Add(rest);
                }
                else if (b != ']' && node.MaxItems > 0)
                {
                    g.StartValue(node.Items, b, new ParseStack(new ArrayFrame(node, Phase.AfterItem, 1, 0), rest), output);
                }
                return;
            case Phase.AfterItem:
                if (b == ',' && count < node.MaxItems)
                {
                    output.Add(new ParseStack(new ArrayFrame(node, Phase.AfterComma, count, 0), rest));
                }
                else if (b == ']' && count >= node.MinItems)
                {
                    output.Add(rest);
                }
                return;
            case Phase.AfterComma:
                g.StartValue(node.Items, b, new ParseStack(new ArrayFrame(node, Phase.AfterItem, count + 1, 0), rest), output);
                return;
        }
    }
}
