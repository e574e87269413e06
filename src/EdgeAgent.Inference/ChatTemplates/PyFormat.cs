using System.Globalization;
using System.Text;

namespace EdgeAgent.Inference.ChatTemplates;

/// <summary>
/// Python printf-style formatting (<c>'%s: %d' % (a, b)</c> and jinja2's <c>format</c> filter):
/// conversions s r d i f F e E g G x X o c %, flags <c>- 0 + space</c>, width and precision, and
/// <c>%(name)s</c> keys when the right operand is a dict.
/// </summary>
internal static class PyFormat
{
    public static string Percent(Renderer r, string format, object? operand)
    {
        var args = operand as object?[] ?? [operand];
        var mapping = operand as PyDict;
        int next = 0;
        var sb = new StringBuilder(format.Length);
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%')
            {
                sb.Append(c);
                continue;
            }

            if (++i >= format.Length)
            {
                throw new ChatTemplateException("ValueError: incomplete format");
            }

            object? value = null;
            bool haveValue = false;
            if (format[i] == '(')
            {
                int close = format.IndexOf(')', i);
                if (close < 0 || mapping is null)
                {
                    throw Values.TypeError("format requires a mapping");
                }

                string key = format[(i + 1)..close];
                value = mapping.TryGet(key, out var v) ? v : throw new ChatTemplateException($"KeyError: {PyText.Repr(key)}");
                haveValue = true;
                i = close + 1;
            }

            string flags = "";
            while (i < format.Length && "-+ #0".Contains(format[i], StringComparison.Ordinal))
            {
                flags += format[i++];
            }

            int width = ReadNumber(format, ref i);
            int precision = -1;
            if (i < format.Length && format[i] == '.')
            {
                i++;
                precision = Math.Max(0, ReadNumber(format, ref i));
            }

            if (i >= format.Length)
            {
                throw new ChatTemplateException("ValueError: incomplete format");
            }

            char conv = format[i];
            if (conv == '%')
            {
                sb.Append('%');
                continue;
            }

            if (!haveValue)
            {
                value = next < args.Length ? args[next++] : throw Values.TypeError("not enough arguments for format string");
            }

            string text = Convert(conv, value, flags, precision);
            if (text.Length < width)
            {
                bool zeroPad = flags.Contains('0', StringComparison.Ordinal) && !flags.Contains('-', StringComparison.Ordinal) && conv is not ('s' or 'r' or 'c');
                if (flags.Contains('-', StringComparison.Ordinal))
                {
                    text = text.PadRight(width);
                }
                else if (zeroPad && text.Length > 0 && text[0] is '-' or '+' or ' ')
                {
                    text = text[0] + text[1..].PadLeft(width - 1, '0');
                }
                else
                {
                    text = text.PadLeft(width, zeroPad ? '0' : ' ');
                }
            }

            sb.Append(text);
            if (sb.Length > r.MaxStringLength)
            {
                throw new ChatTemplateException("Formatted string exceeds the output size limit");
            }
        }

        if (mapping is null && next < args.Length)
        {
            throw Values.TypeError("not all arguments converted during string formatting");
        }

        r.Charge(sb.Length);
        return sb.ToString();
    }

    private static int ReadNumber(string s, ref int i)
    {
        if (i < s.Length && s[i] == '*')
        {
            throw new ChatTemplateException("'*' width or precision is not supported");
        }

        int n = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            n = Math.Min((n * 10) + (s[i++] - '0'), 4096);
        }

        return n;
    }

    private static string Convert(char conv, object? value, string flags, int precision)
    {
        var inv = CultureInfo.InvariantCulture;
        string sign(double d) => d < 0 || double.IsNegative(d) ? "" : flags.Contains('+', StringComparison.Ordinal) ? "+" : flags.Contains(' ', StringComparison.Ordinal) ? " " : "";
        switch (conv)
        {
            case 's':
                string s = Values.ToStr(value);
                return precision >= 0 && precision < s.Length ? s[..precision] : s;
            case 'r':
                string rs = Values.Repr(value);
                return precision >= 0 && precision < rs.Length ? rs[..precision] : rs;
            case 'd' or 'i':
                long l = value is double dv ? (long)Math.Truncate(dv) : Values.IsIntegral(value) ? Values.AsLong(value)
                    : throw Values.TypeError($"%{conv} format: a real number is required, not {Values.TypeName(value)}");
                return sign(l) + l.ToString(inv);
            case 'x' or 'X' or 'o':
                long h = Values.AsLong(value);
                string digits = conv == 'o' ? System.Convert.ToString(Math.Abs(h), 8) : Math.Abs(h).ToString(conv == 'x' ? "x" : "X", inv);
                return (h < 0 ? "-" : sign(h)) + digits;
            case 'f' or 'F' or 'e' or 'E' or 'g' or 'G':
                double d = Values.AsDouble(value);
                int p = precision < 0 ? 6 : precision;
                string body = conv switch
                {
                    'f' or 'F' => d.ToString("F" + p, inv),
                    'e' or 'E' => FormatExponent(d, p, conv),
                    _ => conv == 'g' ? d.ToString("G" + Math.Max(p, 1), inv).ToLowerInvariant() : d.ToString("G" + Math.Max(p, 1), inv),
                };
                return sign(d) + body;
            case 'c':
                return value is string cs && PyText.Length(cs) == 1 ? cs : char.ConvertFromUtf32((int)Values.AsLong(value));
            default:
                throw new ChatTemplateException($"ValueError: unsupported format character '{conv}'");
        }
    }

    /// <summary>Python's <c>%e</c>: mantissa with <paramref name="precision"/> digits and an exponent of at least two digits.</summary>
    private static string FormatExponent(double d, int precision, char conv)
    {
        string s = d.ToString((conv == 'e' ? "e" : "E") + precision, CultureInfo.InvariantCulture);
        int e = s.IndexOfAny(['e', 'E']);
        int exp = int.Parse(s.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return s[..(e + 1)] + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
    }
}
