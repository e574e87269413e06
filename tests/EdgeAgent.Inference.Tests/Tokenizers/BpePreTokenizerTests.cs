using System.Text;
using System.Text.RegularExpressions;
using EdgeAgent.Inference.Tokenizers;

namespace EdgeAgent.Inference.Tests.Tokenizers;

/// <summary>The hand-written pre-tokenizers against the regexes they implement (llama.cpp's regex_exprs), on known
/// strings and on random BMP text (where a UTF-16 regex classifies characters correctly).</summary>
public class BpePreTokenizerTests
{
    // llama.cpp's forms of the patterns: the case-insensitive group written out as ASCII classes.
    private const string Gpt2 = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    private const string Llama3 = @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Qwen2 = @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private static List<string> RegexSplit(string pattern, string text) =>
        Regex.Matches(text, pattern, RegexOptions.CultureInvariant).Select(m => m.Value).ToList();

    [Theory]
    [InlineData("Hello world", new[] { "Hello", " world" })]
    [InlineData("I'LL we've don't", new[] { "I", "'LL", " we", "'ve", " don", "'t" })]
    [InlineData("1234567 3.14", new[] { "123", "456", "7", " ", "3", ".", "14" })]
    [InlineData("a  b\n\n  c", new[] { "a", " ", " b", "\n\n", " ", " c" })]
    [InlineData("x   ", new[] { "x", "   " })]
    [InlineData("?!x...\r\n", new[] { "?!", "x", "...\r\n" })]
    public void Llama3KnownSplits(string text, string[] expected) =>
        Assert.Equal(expected, BpePreTokenizer.Split(text, BpePreTokenizerKind.Llama3));

    [Theory]
    [InlineData("I'LL we've", new[] { "I", "'", "LL", " we", "'ve" })]
    [InlineData("a  b 123", new[] { "a", " ", " b", " 123" })]
    public void Gpt2KnownSplits(string text, string[] expected) =>
        Assert.Equal(expected, BpePreTokenizer.Split(text, BpePreTokenizerKind.Gpt2));

    [Theory]
    [InlineData("abc 1234", new[] { "abc", " ", "1", "2", "3", "4" })]
    [InlineData("x 12y", new[] { "x", " ", "1", "2", "y" })]
    public void SmollmSplitsDigitsOneByOneBeforeGpt2(string text, string[] expected) =>
        Assert.Equal(expected, BpePreTokenizer.Split(text, BpePreTokenizerKind.Smollm));

    [Fact]
    public void Qwen2SplitsEveryDigit() =>
        Assert.Equal(["v", "1", "2", "3", " ", "4"], BpePreTokenizer.Split("v123 4", BpePreTokenizerKind.Qwen2));

    [Fact]
    public void DefaultSplitsPunctuationRunsThenGpt2ThenNumbersThenDigitTriples() =>
        // [\p{P}$+<=>^~|]+ takes "!?"; GPT-2 keeps " 12345678"; \p{N}+ parts the space; [0-9]{3} cuts triples
        Assert.Equal(["a", "!?", "b", " ", "123", "456", "78"], BpePreTokenizer.Split("a!?b 12345678", BpePreTokenizerKind.Default));

    [Fact]
    public void ContractionsAreCaseInsensitiveForAsciiOnly()
    {
        // llama.cpp compares unicode_tolower(next) with ASCII letters: 'S and 'LL are contractions, 'ſ (U+017F) is not.
        Assert.Equal(["he", "'S", " I", "'LL"], BpePreTokenizer.Split("he'S I'LL", BpePreTokenizerKind.Llama3));
        Assert.Equal(["he", "'ſx"], BpePreTokenizer.Split("he'ſx", BpePreTokenizerKind.Llama3));
        Assert.Equal(RegexSplit(@"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\s+", "It'S YOU'RE we'Ve I'M"),
            BpePreTokenizer.Split("It'S YOU'RE we'Ve I'M", BpePreTokenizerKind.Llama3));
        // GPT-2's contractions are lower-case only
        Assert.Equal(["I", "'", "M"], BpePreTokenizer.Split("I'M", BpePreTokenizerKind.Gpt2));
    }

    [Fact]
    public void AstralLettersAndDigitsAreClassifiedByCodePoint()
    {
        Assert.Equal(["𝐀𝐁c", " ", "𝟏𝟐𝟑"], BpePreTokenizer.Split("𝐀𝐁c 𝟏𝟐𝟑", BpePreTokenizerKind.Llama3));
        Assert.Equal(["😀😃", " 👍"], BpePreTokenizer.Split("😀😃 👍", BpePreTokenizerKind.Gpt2));
    }

    [Theory]
    [InlineData(nameof(BpePreTokenizerKind.Gpt2), Gpt2)]
    [InlineData(nameof(BpePreTokenizerKind.Llama3), Llama3)]
    [InlineData(nameof(BpePreTokenizerKind.Qwen2), Qwen2)]
    public void RandomTextSplitsAsTheRegex(string kindName, string pattern)
    {
        var kind = Enum.Parse<BpePreTokenizerKind>(kindName);
        const string alphabet = "aZé中ß 0123456789'sStTmMdDlLrReEvV\n\r\t\u00a0\u2003\u3000.,!?-_()\"$+<=>^~|`½²٣ſ\u0301\u200d";
        var rng = new Random(1234);
        var sb = new StringBuilder();
        for (int n = 0; n < 3000; n++)
        {
            sb.Clear();
            int length = rng.Next(1, 24);
            for (int i = 0; i < length; i++)
            {
                sb.Append(alphabet[rng.Next(alphabet.Length)]);
            }
            var text = sb.ToString();
            Assert.True(RegexSplit(pattern, text).SequenceEqual(BpePreTokenizer.Split(text, kind)), $"{kind}: \"{Regex.Escape(text)}\"");
        }
    }
}
