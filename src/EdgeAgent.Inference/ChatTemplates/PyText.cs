using System.Globalization;
using System.Text;

namespace EdgeAgent.Inference.ChatTemplates;

/// <summary>
/// Python <c>str</c> semantics that templates observe: whitespace as <c>str.isspace</c> sees it,
/// indexing and length by code point, <c>repr</c> quoting and float formatting.
/// </summary>
internal static class PyText
{
    /// <summary>Python <c>str.isspace</c> for one UTF-16 unit (includes the \x1c-\x1f separators).</summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || (c >= '\x1c' && c <= '\x1f');

    public static string Strip(string s, string? chars) => RStrip(LStrip(s, chars), chars);

    public static string LStrip(string s, string? chars)
    {
        int i = 0;
        while (i < s.Length && (chars is null ? IsSpace(s[i]) : chars.Contains(s[i], StringComparison.Ordinal)))
        {
            i++;
        }

        return i == 0 ? s : s[i..];
    }

    public static string RStrip(string s, string? chars)
    {
        int end = s.Length;
        while (end > 0 && (chars is null ? IsSpace(s[end - 1]) : chars.Contains(s[end - 1], StringComparison.Ordinal)))
        {
            end--;
        }

        return end == s.Length ? s : s[..end];
    }

    private static bool HasSurrogates(string s)
    {
        foreach (char c in s)
        {
            if (char.IsSurrogate(c))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Splits a string into code points, each as a string (Python iterates strings by code point).</summary>
    public static List<string> CodePoints(string s)
    {
        var result = new List<string>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                result.Add(s.Substring(i, 2));
                i++;
            }
            else
            {
                result.Add(s[i].ToString());
            }
        }

        return result;
    }

    /// <summary>Python <c>len(str)</c>: the number of code points.</summary>
    public static int Length(string s)
    {
        if (!HasSurrogates(s))
        {
            return s.Length;
        }

        int n = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }

            n++;
        }

        return n;
    }

    /// <summary>Python <c>s[index]</c>; null when out of range.</summary>
    public static string? Index(string s, long index)
    {
        if (!HasSurrogates(s))
        {
            long i = index < 0 ? index + s.Length : index;
            return i >= 0 && i < s.Length ? s[(int)i].ToString() : null;
        }

        var cps = CodePoints(s);
        long j = index < 0 ? index + cps.Count : index;
        return j >= 0 && j < cps.Count ? cps[(int)j] : null;
    }

    /// <summary>Python <c>s[start:stop:step]</c>.</summary>
    public static string Slice(string s, long? start, long? stop, long? step)
    {
        if (!HasSurrogates(s))
        {
            var idx = PySlice.Indices(s.Length, start, stop, step);
            if (idx.Step == 1)
            {
                return idx.Count == 0 ? "" : s.Substring(idx.Start, idx.Count);
            }

            var sb = new StringBuilder(idx.Count);
            for (int k = 0, i = idx.Start; k < idx.Count; k++, i += idx.Step)
            {
                sb.Append(s[i]);
            }

            return sb.ToString();
        }

        var cps = CodePoints(s);
        var ix = PySlice.Indices(cps.Count, start, stop, step);
        var b = new StringBuilder();
        for (int k = 0, i = ix.Start; k < ix.Count; k++, i += ix.Step)
        {
            b.Append(cps[i]);
        }

        return b.ToString();
    }

    /// <summary>Python <c>repr(str)</c>: single quotes unless the text holds a single quote and no double quote.</summary>
    public static string Repr(string s)
    {
        char quote = s.Contains('\'', StringComparison.Ordinal) && !s.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        var sb = new StringBuilder(s.Length + 2);
        sb.Append(quote);
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == quote)
                    {
                        sb.Append('\\').Append(c);
                    }
                    else if (c < ' ' || c == '\x7f')
                    {
                        sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append(quote);
        return sb.ToString();
    }

    /// <summary>
    /// Python <c>repr(float)</c>: the shortest round-trip digits, positional notation for decimal
    /// exponents in [-4, 16), otherwise <c>d.ddde+XX</c>.
    /// </summary>
    public static string FormatFloat(double d)
    {
        if (double.IsNaN(d))
        {
            return "nan";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "inf" : "-inf";
        }

        if (d == 0)
        {
            return double.IsNegative(d) ? "-0.0" : "0.0";
        }

        // "R" yields the shortest round-trip form (e.g. "1.5E-07", "123.25"); re-layout its digits.
        string r = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        int ePos = r.IndexOfAny(['E', 'e']);
        int exp = ePos >= 0 ? int.Parse(r.AsSpan(ePos + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) : 0;
        string mantissa = ePos >= 0 ? r[..ePos] : r;
        int point = mantissa.IndexOf('.', StringComparison.Ordinal);
        string digits = point >= 0 ? mantissa.Remove(point, 1) : mantissa;
        int pointPos = point >= 0 ? point : mantissa.Length;
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0')
        {
            lead++;
        }

        digits = digits[lead..];
        pointPos -= lead;
        digits = digits.TrimEnd('0');
        if (digits.Length == 0)
        {
            digits = "0";
        }

        int sciExp = pointPos + exp - 1;
        var sb = new StringBuilder();
        if (d < 0)
        {
            sb.Append('-');
        }

        if (sciExp >= -4 && sciExp < 16)
        {
            if (sciExp >= 0)
            {
                int intLen = sciExp + 1;
                sb.Append(digits.Length >= intLen ? digits[..intLen] : digits.PadRight(intLen, '0'));
                sb.Append('.');
                sb.Append(digits.Length > intLen ? digits[intLen..] : "0");
            }
            else
            {
                sb.Append("0.").Append('0', -sciExp - 1).Append(digits);
            }
        }
        else
        {
            sb.Append(digits[0]);
            if (digits.Length > 1)
            {
                sb.Append('.').Append(digits, 1, digits.Length - 1);
            }

            sb.Append('e').Append(sciExp < 0 ? '-' : '+');
            sb.Append(Math.Abs(sciExp).ToString("00", CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    /// <summary>Python <c>str.splitlines()</c> without keepends.</summary>
    public static List<string> SplitLines(string s)
    {
        var lines = new List<string>();
        int start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            bool isBreak = c is '\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029';
            if (!isBreak)
            {
                continue;
            }

            lines.Add(s[start..i]);
            if (c == '\r' && i + 1 < s.Length && s[i + 1] == '\n')
            {
                i++;
            }

            start = i + 1;
        }

        if (start < s.Length)
        {
            lines.Add(s[start..]);
        }

        return lines;
    }

    /// <summary>Python <c>str.split(sep, maxsplit)</c>; a null separator splits on runs of whitespace.</summary>
    public static List<string> Split(string s, string? sep, int maxSplit)
    {
        var parts = new List<string>();
        if (sep is null)
        {
            int i = 0;
            while (true)
            {
                while (i < s.Length && IsSpace(s[i]))
                {
                    i++;
                }

                if (i >= s.Length)
                {
                    break;
                }

                if (maxSplit >= 0 && parts.Count == maxSplit)
                {
                    parts.Add(RStrip(s[i..], null));
                    break;
                }

                int j = i;
                while (j < s.Length && !IsSpace(s[j]))
                {
                    j++;
                }

                parts.Add(s[i..j]);
                i = j;
            }

            return parts;
        }

        if (sep.Length == 0)
        {
            throw new ChatTemplateException("ValueError: empty separator");
        }

        int pos = 0;
        while (maxSplit < 0 || parts.Count < maxSplit)
        {
            int k = s.IndexOf(sep, pos, StringComparison.Ordinal);
            if (k < 0)
            {
                break;
            }

            parts.Add(s[pos..k]);
            pos = k + sep.Length;
        }

        parts.Add(s[pos..]);
        return parts;
    }

    /// <summary>Python <c>str.rsplit(sep, maxsplit)</c> for an explicit separator.</summary>
    public static List<string> RSplit(string s, string? sep, int maxSplit)
    {
        if (sep is null || maxSplit < 0)
        {
            return Split(s, sep, maxSplit);
        }

        if (sep.Length == 0)
        {
            throw new ChatTemplateException("ValueError: empty separator");
        }

        var parts = new List<string>();
        int end = s.Length;
        while (parts.Count < maxSplit)
        {
            int k = end - sep.Length < 0 ? -1 : s.LastIndexOf(sep, end - sep.Length, StringComparison.Ordinal);
            if (k < 0)
            {
                break;
            }

            parts.Add(s[(k + sep.Length)..end]);
            end = k;
        }

        parts.Add(s[..end]);
        parts.Reverse();
        return parts;
    }

    /// <summary>Python <c>str.title()</c>: a letter after a non-letter is upper-cased, other letters lower-cased.</summary>
    public static string PyTitle(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool prevCased = false;
        foreach (char c in s)
        {
            bool cased = char.IsLetter(c);
            sb.Append(cased ? (prevCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)) : c);
            prevCased = cased;
        }

        return sb.ToString();
    }

    /// <summary>
    /// Jinja's <c>title</c> filter: words start after whitespace, '-', or an opening bracket; the
    /// first character of a word is upper-cased and the rest lower-cased.
    /// </summary>
    public static string JinjaTitle(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool wordStart = true;
        foreach (char c in s)
        {
            bool delimiter = IsSpace(c) || c is '-' or '(' or '{' or '[' or '<';
            if (delimiter)
            {
                sb.Append(c);
                wordStart = true;
            }
            else
            {
                sb.Append(wordStart ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
                wordStart = false;
            }
        }

        return sb.ToString();
    }

    /// <summary>Python <c>str.capitalize()</c>.</summary>
    public static string Capitalize(string s) =>
        s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    /// <summary>Compares by code point, as Python orders strings.</summary>
    public static int CompareCodePoints(string a, string b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            if (a[i] == b[i])
            {
                continue;
            }

            // Surrogates encode code points above every BMP unit, so map them past 0xFFFF.
            int ca = char.IsSurrogate(a[i]) ? a[i] + 0x10000 : a[i];
            int cb = char.IsSurrogate(b[i]) ? b[i] + 0x10000 : b[i];
            return ca.CompareTo(cb);
        }

        return a.Length.CompareTo(b.Length);
    }
}

/// <summary>Python slice index normalisation (<c>slice.indices</c>).</summary>
internal static class PySlice
{
    public readonly record struct Range(int Start, int Step, int Count);

    public static Range Indices(int length, long? start, long? stop, long? step)
    {
        long st = step ?? 1;
        if (st == 0)
        {
            throw new ChatTemplateException("ValueError: slice step cannot be zero");
        }

        long lower = st < 0 ? -1 : 0;
        long upper = st < 0 ? length - 1 : length;
        long s0 = start is long a ? Clamp(a < 0 ? a + length : a, lower, upper) : (st < 0 ? upper : lower);
        long s1 = stop is long b ? Clamp(b < 0 ? b + length : b, lower, upper) : (st < 0 ? lower : upper);
        long count = st > 0
            ? (s1 > s0 ? ((s1 - s0 - 1) / st) + 1 : 0)
            : (s0 > s1 ? ((s0 - s1 - 1) / -st) + 1 : 0);
        return new Range((int)s0, (int)Math.Clamp(st, int.MinValue + 1, int.MaxValue), (int)count);
    }

    private static long Clamp(long v, long lo, long hi) => v < lo ? lo : v > hi ? hi : v;
}
