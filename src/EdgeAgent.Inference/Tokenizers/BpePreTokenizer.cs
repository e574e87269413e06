using System.Globalization;
using System.Text;

namespace EdgeAgent.Inference.Tokenizers;

/// <summary>The regex families llama.cpp uses to pre-tokenize BPE text (<c>llm_tokenizer_bpe</c>'s
/// <c>regex_exprs</c> per <c>tokenizer.ggml.pre</c>).</summary>
internal enum BpePreTokenizerKind
{
    /// <summary><c>[\p{P}\$\+&lt;=&gt;\^~\|]+</c>, then GPT-2, then <c>\p{N}+</c>, then <c>[0-9][0-9][0-9]</c>.</summary>
    Default,

    /// <summary><c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)</c> (plus the implicit <c>\s+</c>).</summary>
    Gpt2,

    /// <summary><c>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c></summary>
    Llama3,

    /// <summary>As <see cref="Llama3"/> with single digits: <c>…|\p{N}|…</c>.</summary>
    Qwen2,

    /// <summary><c>\p{N}</c> (each digit alone), then GPT-2 (starcoder, smollm, refact, …).</summary>
    Smollm,
}

/// <summary>
/// Splits text into pre-tokens exactly as llama.cpp's <c>unicode_regex_split</c> does for the supported
/// pre-tokenizers. Like llama.cpp (<c>unicode_regex_split_custom_gpt2/_llama3</c>) the patterns are matched by hand
/// over code points, so astral letters and digits are classified correctly (a UTF-16 regex would see surrogates).
/// Each regex in a list splits every piece of the previous one, and text a regex does not match stays a piece of
/// its own; a lookahead never sees past the end of its piece.
/// </summary>
internal static class BpePreTokenizer
{
    /// <summary>Splits code points into pieces; returns the piece lengths in code points.</summary>
    public static List<int> Split(ReadOnlySpan<int> cpts, BpePreTokenizerKind kind)
    {
        List<int> pieces = [cpts.Length];
        if (cpts.IsEmpty)
        {
            return [];
        }
        switch (kind)
        {
            case BpePreTokenizerKind.Default:
                pieces = SplitRuns(cpts, pieces, c => (CodepointFlags.Get(c) & CodepointFlags.Punctuation) != 0 || c is '$' or '+' or '<' or '=' or '>' or '^' or '~' or '|');
                pieces = SplitGpt2(cpts, pieces);
                pieces = SplitRuns(cpts, pieces, c => (CodepointFlags.Get(c) & CodepointFlags.Number) != 0);
                pieces = SplitAsciiDigitTriples(cpts, pieces);
                break;
            case BpePreTokenizerKind.Gpt2:
                pieces = SplitGpt2(cpts, pieces);
                break;
            case BpePreTokenizerKind.Llama3:
                pieces = SplitLlama3(cpts, pieces, maxDigits: 3);
                break;
            case BpePreTokenizerKind.Qwen2:
                pieces = SplitLlama3(cpts, pieces, maxDigits: 1);
                break;
            case BpePreTokenizerKind.Smollm:
                pieces = SplitEach(cpts, pieces, c => (CodepointFlags.Get(c) & CodepointFlags.Number) != 0);
                pieces = SplitGpt2(cpts, pieces);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
        return pieces;
    }

    /// <summary>Convenience for tests and tools: the pre-tokens of a string.</summary>
    public static List<string> Split(string text, BpePreTokenizerKind kind)
    {
        var cpts = new List<int>();
        foreach (var r in text.EnumerateRunes())
        {
            cpts.Add(r.Value);
        }
        var result = new List<string>();
        int start = 0;
        var sb = new StringBuilder();
        foreach (int len in Split(cpts.ToArray(), kind))
        {
            sb.Clear();
            for (int i = start; i < start + len; i++)
            {
                sb.Append(char.ConvertFromUtf32(cpts[i]));
            }
            result.Add(sb.ToString());
            start += len;
        }
        return result;
    }

    private const int OutOfRange = -1;

    /// <summary>The view of one piece that llama.cpp's custom splitters use: code points and flags outside the
    /// piece read as "out of range" / no flags.</summary>
    private readonly ref struct Piece(ReadOnlySpan<int> cpts, int start, int end)
    {
        private readonly ReadOnlySpan<int> _cpts = cpts;
        public readonly int Start = start;
        public readonly int End = end;

        public int Cpt(int pos) => pos >= Start && pos < End ? _cpts[pos] : OutOfRange;

        public int Flags(int pos) => pos >= Start && pos < End ? CodepointFlags.Get(_cpts[pos]) : 0;
    }

    /// <summary>llama.cpp's <c>unicode_regex_split_custom_gpt2</c>.</summary>
    private static List<int> SplitGpt2(ReadOnlySpan<int> cpts, List<int> pieces)
    {
        var output = new List<int>(pieces.Count * 2);
        int start = 0;
        foreach (int length in pieces)
        {
            var p = new Piece(cpts, start, start + length);
            start += length;
            int prevEnd = p.Start;
            void Add(int end)
            {
                if (end > prevEnd)
                {
                    output.Add(end - prevEnd);
                }
                prevEnd = end;
            }
            for (int pos = p.Start; pos < p.End;)
            {
                int cpt = p.Cpt(pos);
                int flags = p.Flags(pos);

                // 's|'t|'re|'ve|'m|'ll|'d
                if (cpt == '\'' && pos + 1 < p.End)
                {
                    int next = p.Cpt(pos + 1);
                    if (next is 's' or 't' or 'm' or 'd')
                    {
                        Add(pos += 2);
                        continue;
                    }
                    if (pos + 2 < p.End)
                    {
                        int next2 = p.Cpt(pos + 2);
                        if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l'))
                        {
                            Add(pos += 3);
                            continue;
                        }
                    }
                }

                int flags2 = cpt == ' ' ? p.Flags(pos + 1) : flags;
                // <space>?\p{L}+ , <space>?\p{N}+ , <space>?[^\s\p{L}\p{N}]+
                int kind = Gpt2Class(flags2);
                if (kind != 0)
                {
                    pos += cpt == ' ' ? 1 : 0;
                    while (Gpt2Class(flags2) == kind)
                    {
                        flags2 = p.Flags(++pos);
                    }
                    Add(pos);
                    continue;
                }

                int spaces = 0;
                while (IsSpace(p.Flags(pos + spaces)))
                {
                    spaces++;
                }
                // \s+(?!\S)
                if (spaces > 1 && p.Cpt(pos + spaces) != OutOfRange)
                {
                    Add(pos += spaces - 1);
                    continue;
                }
                // \s+
                if (spaces > 0)
                {
                    Add(pos += spaces);
                    continue;
                }
                Add(++pos);
            }
        }
        return output;
    }

    /// <summary>llama.cpp's <c>unicode_regex_split_custom_llama3</c>; <paramref name="maxDigits"/> 1 gives the qwen2
    /// pattern (which llama.cpp runs through std::regex; the two agree).</summary>
    private static List<int> SplitLlama3(ReadOnlySpan<int> cpts, List<int> pieces, int maxDigits)
    {
        var output = new List<int>(pieces.Count * 2);
        int start = 0;
        foreach (int length in pieces)
        {
            var p = new Piece(cpts, start, start + length);
            start += length;
            int prevEnd = p.Start;
            void Add(int end)
            {
                if (end > prevEnd)
                {
                    output.Add(end - prevEnd);
                }
                prevEnd = end;
            }
            for (int pos = p.Start; pos < p.End;)
            {
                int cpt = p.Cpt(pos);
                int flags = p.Flags(pos);

                // (?i:'s|'t|'re|'ve|'m|'ll|'d)
                if (cpt == '\'' && pos + 1 < p.End)
                {
                    int next = ToLowerAscii(p.Cpt(pos + 1));
                    if (next is 's' or 't' or 'm' or 'd')
                    {
                        Add(pos += 2);
                        continue;
                    }
                    if (pos + 2 < p.End)
                    {
                        int next2 = ToLowerAscii(p.Cpt(pos + 2));
                        if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l'))
                        {
                            Add(pos += 3);
                            continue;
                        }
                    }
                }

                // [^\r\n\p{L}\p{N}]?\p{L}+
                if (!(cpt == '\r' || cpt == '\n' || IsNumber(flags)) && (IsLetter(flags) || IsLetter(p.Flags(pos + 1))))
                {
                    pos++;
                    while (IsLetter(p.Flags(pos)))
                    {
                        pos++;
                    }
                    Add(pos);
                    continue;
                }

                // \p{N}{1,3}
                if (IsNumber(flags))
                {
                    int ini = pos;
                    while (IsNumber(p.Flags(pos)))
                    {
                        if (++pos - ini >= maxDigits)
                        {
                            Add(pos);
                            ini = pos;
                        }
                    }
                    Add(pos);
                    continue;
                }

                // <space>?[^\s\p{L}\p{N}]+[\r\n]*
                int flags2 = cpt == ' ' ? p.Flags(pos + 1) : flags;
                if (!(IsSpace(flags2) || IsLetter(flags2) || IsNumber(flags2)) && flags != 0)
                {
                    pos += cpt == ' ' ? 1 : 0;
                    while (IsOther(flags2))
                    {
                        flags2 = p.Flags(++pos);
                    }
                    int c2 = p.Cpt(pos);
                    while (c2 is '\r' or '\n')
                    {
                        c2 = p.Cpt(++pos);
                    }
                    Add(pos);
                    continue;
                }

                int spaces = 0, lastNewlineEnd = 0;
                while (IsSpace(p.Flags(pos + spaces)))
                {
                    if (p.Cpt(pos + spaces) is '\r' or '\n')
                    {
                        lastNewlineEnd = pos + spaces + 1;
                    }
                    spaces++;
                }
                // \s*[\r\n]+
                if (lastNewlineEnd > 0)
                {
                    Add(pos = lastNewlineEnd);
                    continue;
                }
                // \s+(?!\S)
                if (spaces > 1 && p.Cpt(pos + spaces) != OutOfRange)
                {
                    Add(pos += spaces - 1);
                    continue;
                }
                // \s+
                if (spaces > 0)
                {
                    Add(pos += spaces);
                    continue;
                }
                Add(++pos);
            }
        }
        return output;
    }

    /// <summary>A regex matching one code point of a class (e.g. <c>\p{N}</c>): each match is a piece, and so is
    /// each run between matches.</summary>
    private static List<int> SplitEach(ReadOnlySpan<int> cpts, List<int> pieces, Func<int, bool> match)
    {
        var output = new List<int>(pieces.Count * 2);
        int start = 0;
        foreach (int length in pieces)
        {
            int gap = 0;
            for (int i = start; i < start + length; i++)
            {
                if (match(cpts[i]))
                {
                    if (gap > 0)
                    {
                        output.Add(gap);
                        gap = 0;
                    }
                    output.Add(1);
                }
                else
                {
                    gap++;
                }
            }
            if (gap > 0)
            {
                output.Add(gap);
            }
            start += length;
        }
        return output;
    }

    /// <summary>A regex <c>[class]+</c>: runs inside and outside the class alternate as pieces.</summary>
    private static List<int> SplitRuns(ReadOnlySpan<int> cpts, List<int> pieces, Func<int, bool> match)
    {
        var output = new List<int>(pieces.Count * 2);
        int start = 0;
        foreach (int length in pieces)
        {
            int end = start + length;
            for (int i = start; i < end;)
            {
                bool inside = match(cpts[i]);
                int j = i + 1;
                while (j < end && match(cpts[j]) == inside)
                {
                    j++;
                }
                output.Add(j - i);
                i = j;
            }
            start = end;
        }
        return output;
    }

    /// <summary><c>[0-9][0-9][0-9]</c>: non-overlapping triples of ASCII digits, found left to right.</summary>
    private static List<int> SplitAsciiDigitTriples(ReadOnlySpan<int> cpts, List<int> pieces)
    {
        var output = new List<int>(pieces.Count * 2);
        int start = 0;
        foreach (int length in pieces)
        {
            int end = start + length, prevEnd = start;
            for (int i = start; i + 3 <= end;)
            {
                if (IsAsciiDigit(cpts[i]) && IsAsciiDigit(cpts[i + 1]) && IsAsciiDigit(cpts[i + 2]))
                {
                    if (i > prevEnd)
                    {
                        output.Add(i - prevEnd);
                    }
                    output.Add(3);
                    i += 3;
                    prevEnd = i;
                }
                else
                {
                    i++;
                }
            }
            if (end > prevEnd)
            {
                output.Add(end - prevEnd);
            }
            start = end;
        }
        return output;
    }

    /// <summary>Which of GPT-2's <c>\p{L}+</c> (1), <c>\p{N}+</c> (2), <c>[^\s\p{L}\p{N}]+</c> (3) a code point
    /// continues; 0 for whitespace and outside the piece.</summary>
    private static int Gpt2Class(int flags) => IsLetter(flags) ? 1 : IsNumber(flags) ? 2 : IsOther(flags) ? 3 : 0;

    private static bool IsAsciiDigit(int c) => c is >= '0' and <= '9';

    private static int ToLowerAscii(int c) => c is >= 'A' and <= 'Z' ? c + 32 : c;

    private static bool IsLetter(int flags) => (flags & CodepointFlags.Letter) != 0;

    private static bool IsNumber(int flags) => (flags & CodepointFlags.Number) != 0;

    private static bool IsSpace(int flags) => (flags & CodepointFlags.Whitespace) != 0;

    /// <summary><c>[^\s\p{L}\p{N}]</c> for a code point inside the piece (flags 0 means outside).</summary>
    private static bool IsOther(int flags) => flags != 0 && (flags & (CodepointFlags.Letter | CodepointFlags.Number | CodepointFlags.Whitespace)) == 0;
}

/// <summary>The code point classes the pre-tokenizers need, as llama.cpp's <c>unicode_cpt_flags</c> defines them:
/// \p{L}, \p{N}, \p{P} by general category and whitespace as the White_Space property (= .NET's regex \s).
/// Every code point has <see cref="Defined"/> so that "no flags" can mean "outside the piece".</summary>
internal static class CodepointFlags
{
    public const int Defined = 1;
    public const int Letter = 2;
    public const int Number = 4;
    public const int Whitespace = 8;
    public const int Punctuation = 16;

    private static readonly byte[] s_bmp = BuildBmp();

    public static int Get(int cpt) => (uint)cpt < 0x10000 ? s_bmp[cpt] : Compute(cpt);

    private static byte[] BuildBmp()
    {
        var table = new byte[0x10000];
        for (int c = 0; c < table.Length; c++)
        {
            table[c] = (byte)Compute(c);
        }
        return table;
    }

    private static int Compute(int cpt)
    {
        if (cpt > 0x10FFFF)
        {
            return Defined;
        }
        int flags = Defined;
        switch (CharUnicodeInfo.GetUnicodeCategory(cpt))
        {
            case UnicodeCategory.UppercaseLetter:
            case UnicodeCategory.LowercaseLetter:
            case UnicodeCategory.TitlecaseLetter:
            case UnicodeCategory.ModifierLetter:
            case UnicodeCategory.OtherLetter:
                flags |= Letter;
                break;
            case UnicodeCategory.DecimalDigitNumber:
            case UnicodeCategory.LetterNumber:
            case UnicodeCategory.OtherNumber:
                flags |= Number;
                break;
            case UnicodeCategory.ConnectorPunctuation:
            case UnicodeCategory.DashPunctuation:
            case UnicodeCategory.OpenPunctuation:
            case UnicodeCategory.ClosePunctuation:
            case UnicodeCategory.InitialQuotePunctuation:
            case UnicodeCategory.FinalQuotePunctuation:
            case UnicodeCategory.OtherPunctuation:
                flags |= Punctuation;
                break;
        }
        bool space = cpt is (>= 0x09 and <= 0x0D) or 0x20 or 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A)
            or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;
        return space ? flags | Whitespace : flags;
    }
}
