namespace EdgeAgent.Inference.Constraints;

/// <summary>
/// Matches a string of MinLength..MaxLength code points: valid UTF-8 only (a token may end inside a character;
/// the frame remembers how many continuation bytes are due and their allowed range), no raw control characters,
/// the JSON escapes, and <c>\uXXXX</c> outside the surrogate range.
/// </summary>
internal sealed class StringFrame(StringNode node, StringFrame.Phase phase, int count, int pending, byte contLo, byte contHi, int hex) : Frame
{
    internal enum Phase : byte { Open, Content, Escape, Hex }

    internal override void Feed(JsonRecognizer g, byte b, ParseStack rest, List<ParseStack> output)
    {
        switch (phase)
        {
            case Phase.Open:
                if (b == '"')
                {
                    output.Add(Next(Phase.Content, 0, 0, 0, 0, 0, rest));
                }
                return;
            case Phase.Escape:
                if (b is (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t')
                {
                    output.Add(Next(Phase.Content, count + 1, 0, 0, 0, 0, rest));
                }
                else if (b == 'u')
                {
                    output.Add(Next(Phase.Hex, count, 0, 0, 0, 0, rest));
                }
                return;
            case Phase.Hex:
                // The first hex digit may not be D (no surrogates: a lone one is not valid Unicode text).
                if (IsHex(b) && !(hex == 0 && b is (byte)'d' or (byte)'D'))
                {
                    output.Add(hex == 3 ? Next(Phase.Content, count + 1, 0, 0, 0, 0, rest) : Next(Phase.Hex, count, 0, 0, 0, hex + 1, rest));
                }
                return;
        }
        // Content
        if (pending > 0)
        {
            if (b >= contLo && b <= contHi)
            {
                output.Add(Next(Phase.Content, pending == 1 ? count + 1 : count, pending - 1, 0x80, 0xBF, 0, rest));
            }
            return;
        }
        if (b == '"')
        {
            if (count >= node.MinLength)
            {
                output.Add(rest);
            }
            return;
        }
        if (count >= node.MaxLength || b < 0x20)
        {
            return;
        }
        if (b == '\\')
        {
            output.Add(Next(Phase.Escape, count, 0, 0, 0, 0, rest));
        }
        else if (b < 0x80)
        {
            output.Add(Next(Phase.Content, count + 1, 0, 0, 0, 0, rest));
        }
        else if (Utf8Lead(b, out int more, out byte lo, out byte hi))
        {
            output.Add(Next(Phase.Content, count, more, lo, hi, 0, rest));
        }
    }

    private ParseStack Next(Phase p, int c, int pend, byte lo, byte hi, int h, ParseStack rest) =>
        new(new StringFrame(node, p, c, pend, lo, hi, h), rest);

    private static bool IsHex(byte b) => b is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F';

    /// <summary>Well-formed UTF-8 (Unicode table 3-7): continuation count and the allowed range of the next byte.</summary>
    internal static bool Utf8Lead(byte b, out int more, out byte lo, out byte hi)
    {
        (more, lo, hi) = b switch
        {
            >= 0xC2 and <= 0xDF => (1, (byte)0x80, (byte)0xBF),
            0xE0 => (2, (byte)0xA0, (byte)0xBF),
            >= 0xE1 and <= 0xEC or 0xEE or 0xEF => (2, (byte)0x80, (byte)0xBF),
            0xED => (2, (byte)0x80, (byte)0x9F),
            0xF0 => (3, (byte)0x90, (byte)0xBF),
            >= 0xF1 and <= 0xF3 => (3, (byte)0x80, (byte)0xBF),
            0xF4 => (3, (byte)0x80, (byte)0x8F),
            _ => (0, (byte)0, (byte)0),
        };
        return more > 0;
    }
}

/// <summary>Matches one of a sorted set of literal texts; the candidates sharing the bytes so far are
/// [lo, hi). Ends lazily: a byte that extends no candidate ends the value if one matched exactly.</summary>
internal sealed class LiteralFrame(LiteralNode node, int lo, int hi, int pos) : Frame
{
    internal override void Feed(JsonRecognizer g, byte b, ParseStack rest, List<ParseStack> output)
    {
        var lits = node.Literals;
        if (Narrow(lits, lo, hi, pos, b, out int nlo, out int nhi))
        {
            output.Add(new ParseStack(new LiteralFrame(node, nlo, nhi, pos + 1), rest));
        }
        if (CanFinish)
        {
            rest.Top.Feed(g, b, rest.Rest!, output);
        }
    }

    internal override bool CanFinish => pos > 0 && node.Literals[lo].Length == pos;

    /// <summary>Narrows the sorted range [lo, hi) of <paramref name="items"/> to those whose byte at
    /// <paramref name="pos"/> is <paramref name="b"/>; false when none.</summary>
    internal static bool Narrow(byte[][] items, int lo, int hi, int pos, byte b, out int nlo, out int nhi)
    {
        nlo = lo;
        while (nlo < hi && (items[nlo].Length <= pos || items[nlo][pos] < b))
        {
            nlo++;
        }
        nhi = nlo;
        while (nhi < hi && items[nhi].Length > pos && items[nhi][pos] == b)
        {
            nhi++;
        }
        return nhi > nlo;
    }
}

/// <summary>Matches an integer in range: <c>-?(0|[1-9][0-9]*)</c>, taking a digit only when some in-range
/// integer still starts with the digits so far (so generation can never get stuck).</summary>
internal sealed class IntegerFrame(IntegerNode node, bool negative, int digits, long value) : Frame
{
    private const int MaxDigits = 18;

    internal override void Feed(JsonRecognizer g, byte b, ParseStack rest, List<ParseStack> output)
    {
        if (b == '-' && digits == 0 && !negative)
        {
            if (node.Minimum < 0)
            {
                output.Add(new ParseStack(new IntegerFrame(node, true, 0, 0), rest));
            }
            return;
        }
        if (b is >= (byte)'0' and <= (byte)'9')
        {
            int d = b - '0';
            bool leadingZero = digits > 0 && value == 0;
            if (!leadingZero && !(negative && digits == 0 && d == 0) && digits < MaxDigits)
            {
                long v = value * 10 + d;
                if (NumberRange.Reachable(negative, v, digits + 1, MaxDigits, 0, node.Minimum, node.Maximum))
                {
                    output.Add(new ParseStack(new IntegerFrame(node, negative, digits + 1, v), rest));
                }
            }
            return;
        }
        if (CanFinish)
        {
            rest.Top.Feed(g, b, rest.Rest!, output);
        }
    }

    internal override bool CanFinish
    {
        get
        {
            if (digits == 0)
            {
                return false;
            }
            long signed = negative ? -value : value;
            return signed >= node.Minimum && signed <= node.Maximum;
        }
    }
}

/// <summary>Matches a decimal number in range: <c>-?(0|[1-9][0-9]*)(\.[0-9]+)?</c> with a bounded number of
/// fraction digits; like <see cref="IntegerFrame"/>, a byte is taken only when an in-range completion remains.</summary>
internal sealed class NumberFrame(NumberNode node, bool negative, NumberFrame.Phase phase, int digits, decimal value, int fraction) : Frame
{
    internal enum Phase : byte { Int, Dot, Fraction }

    private const int MaxIntDigits = 15;

    internal override void Feed(JsonRecognizer g, byte b, ParseStack rest, List<ParseStack> output)
    {
        int f = node.MaxFractionDigits;
        if (b == '-' && phase == Phase.Int && digits == 0 && !negative)
        {
            if (node.Minimum < 0)
            {
                output.Add(new ParseStack(new NumberFrame(node, true, Phase.Int, 0, 0, 0), rest));
            }
            return;
        }
        if (b is >= (byte)'0' and <= (byte)'9')
        {
            int d = b - '0';
            if (phase == Phase.Int)
            {
                bool leadingZero = digits > 0 && value == 0;
                if (!leadingZero && digits < MaxIntDigits)
                {
                    decimal v = value * 10 + d;
                    if (NumberRange.Reachable(negative, v, digits + 1, MaxIntDigits, f, node.Minimum, node.Maximum))
                    {
                        output.Add(new ParseStack(new NumberFrame(node, negative, Phase.Int, digits + 1, v, 0), rest));
                    }
                }
            }
            else if (fraction < f)
            {
                decimal step = NumberRange.Pow10(-(fraction + 1));
                decimal v = value + d * step;
                if (NumberRange.ReachableFraction(negative, v, fraction + 1, f, node.Minimum, node.Maximum))
                {
                    output.Add(new ParseStack(new NumberFrame(node, negative, Phase.Fraction, digits, v, fraction + 1), rest));
                }
            }
            return;
        }
        if (b == '.' && phase == Phase.Int && digits > 0 && f > 0)
        {
            if (NumberRange.ReachableFraction(negative, value, 0, f, node.Minimum, node.Maximum))
            {
                output.Add(new ParseStack(new NumberFrame(node, negative, Phase.Dot, digits, value, 0), rest));
            }
            return;
        }
        if (CanFinish)
        {
            rest.Top.Feed(g, b, rest.Rest!, output);
        }
    }

    internal override bool CanFinish
    {
        get
        {
            if (digits == 0 || phase == Phase.Dot)
            {
                return false;
            }
            decimal signed = negative ? -value : value;
            return signed >= node.Minimum && signed <= node.Maximum;
        }
    }
}

/// <summary>Which values can still be written after a prefix of digits.</summary>
internal static class NumberRange
{
    private static readonly decimal[] Powers = Enumerable.Range(0, 29).Select(i => Pow(i)).ToArray();

    private static decimal Pow(int e)
    {
        decimal r = 1;
        for (int i = 0; i < e; i++)
        {
            r *= 10;
        }
        return r;
    }

    /// <summary>10^e for e in [-28, 28].</summary>
    public static decimal Pow10(int e) => e >= 0 ? Powers[e] : 1m / Powers[-e];

    /// <summary>After integer digits <paramref name="v"/> (<paramref name="digits"/> of them): the completions
    /// are v itself with any fraction, and v followed by k more digits (k up to the cap) with any fraction.
    /// True when one of them, on the grid of <paramref name="fraction"/> decimals, lies in [min, max].</summary>
    public static bool Reachable(bool negative, decimal v, int digits, int maxDigits, int fraction, decimal min, decimal max)
    {
        decimal ulp = Pow10(-fraction);
        int extra = v == 0 ? 0 : maxDigits - digits;
        for (int k = 0; k <= extra; k++)
        {
            decimal scale = Powers[k];
            decimal lo = v * scale, hi = (v + 1) * scale - ulp;
            if (Intersects(negative, lo, hi, fraction, min, max))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>After <paramref name="have"/> fraction digits giving <paramref name="v"/>: completions are
    /// [v, v + 10^-have − 10^-max] on the grid of <paramref name="maxFraction"/> decimals (with at least one
    /// fraction digit in total).</summary>
    public static bool ReachableFraction(bool negative, decimal v, int have, int maxFraction, decimal min, decimal max)
    {
        decimal hi = v + Pow10(-have) - Pow10(-maxFraction);
        return Intersects(negative, v, hi, maxFraction, min, max);
    }

    /// <summary>Does the magnitude interval [lo, hi] (negated when <paramref name="negative"/>) hold a grid point in
    /// [min, max]?</summary>
    private static bool Intersects(bool negative, decimal lo, decimal hi, int fraction, decimal min, decimal max)
    {
        decimal a = negative ? -hi : lo, b = negative ? -lo : hi;
        decimal from = Math.Max(a, min), to = Math.Min(b, max);
        if (from > to)
        {
            return false;
        }
        decimal scale = Pow10(fraction);
        decimal firstGrid = Math.Ceiling(from * scale) / scale;
        return firstGrid <= to;
    }
}
