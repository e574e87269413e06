using System.Text;
using EdgeAgent.Inference.Constraints;

namespace EdgeAgent.Inference.Tests.Constraints;

public sealed class JsonGrammarTests
{
    private static bool Accepts(string schema, string text, int ws = 1) =>
        new JsonRecognizer(JsonSchemaCompiler.Compile(schema), new GrammarOptions { MaxWhitespace = ws }).Accepts(Encoding.UTF8.GetBytes(text));

    private const string Call = """
        {"type":"object","properties":{"name":{"const":"light.turn_on"},"arguments":{"type":"object","properties":{
          "entity_id":{"enum":["light.kitchen","light.bedroom"]},"brightness":{"type":"integer","minimum":0,"maximum":100}},
          "required":["entity_id"]}},"required":["name","arguments"]}
        """;

    [Theory]
    [InlineData("""{"name":"light.turn_on","arguments":{"entity_id":"light.kitchen"}}""", true)]
    [InlineData("""{"name":"light.turn_on","arguments":{"entity_id":"light.kitchen","brightness":100}}""", true)]
    [InlineData("""{"name": "light.turn_on", "arguments": {"entity_id": "light.bedroom", "brightness": 0}}""", true)]
    [InlineData("""{"name":"light.turn_on","arguments":{"entity_id":"light.garage"}}""", false)]      // not in the home
    [InlineData("""{"name":"lock.unlock","arguments":{"entity_id":"light.kitchen"}}""", false)]       // no such tool
    [InlineData("""{"name":"light.turn_on","arguments":{"entity_id":"light.kitchen","brightness":101}}""", false)]
    [InlineData("""{"name":"light.turn_on","arguments":{"entity_id":"light.kitchen","brightness":-1}}""", false)]
    [InlineData("""{"name":"light.turn_on","arguments":{"entity_id":"light.kitchen","brightness":05}}""", false)]
    [InlineData("""{"name":"light.turn_on","arguments":{"brightness":5}}""", false)]                    // required missing
    [InlineData("""{"arguments":{"entity_id":"light.kitchen"},"name":"light.turn_on"}""", false)]      // canonical order only
    [InlineData("""{"name":"light.turn_on","arguments":{"entity_id":"light.kitchen"},"x":1}""", false)]
    [InlineData("""{"name":"light.turn_on","arguments":{"entity_id":"light.kitchen"}} """, false)]    // nothing after the document
    [InlineData("""{"name":"light.turn_on",  "arguments":{"entity_id":"light.kitchen"}}""", false)]   // whitespace is bounded
    public void Tool_call_schema(string text, bool valid) => Assert.Equal(valid, Accepts(Call, text));

    /// <summary><see cref="JsonText.Quote"/> writes strings as the grammar does: JSON that reads back as the same text,
    /// characters outside the BMP as themselves (a serializer's surrogate-pair escapes are refused by the grammar), a
    /// lone surrogate as U+FFFD.</summary>
    [Theory]
    [InlineData("dinner is ready 🍕", "dinner is ready 🍕")]
    [InlineData("quote \" and back\\slash, tab\t, line\n, bell\u0007", "quote \" and back\\slash, tab\t, line\n, bell\u0007")]
    [InlineData("", "")]
    public void Quoted_strings_are_grammar_strings_that_read_back(string text, string expected)
    {
        string quoted = JsonText.Quote(text);
        Assert.True(Accepts("""{"type":"string"}""", quoted), quoted);
        Assert.Equal(expected, System.Text.Json.JsonSerializer.Deserialize<string>(quoted));
    }

    [Fact]
    public void A_lone_surrogate_is_quoted_as_the_replacement_character()
    {
        string text = "lone " + (char)0xD83D + " surrogate"; // built here: test data would not carry it intact
        string quoted = JsonText.Quote(text);
        Assert.True(Accepts("""{"type":"string"}""", quoted), quoted);
        Assert.Equal("lone \uFFFD surrogate", System.Text.Json.JsonSerializer.Deserialize<string>(quoted));
    }

    [Theory]
    [InlineData("5", true)]
    [InlineData("35", true)]
    [InlineData("21.5", true)]
    [InlineData("4", false)]
    [InlineData("35.000001", false)]
    [InlineData("36", false)]
    [InlineData("-5", false)]
    [InlineData("1e1", false)]
    [InlineData("21.", false)]
    [InlineData("021", false)]
    public void Number_ranges(string text, bool valid) =>
        Assert.Equal(valid, Accepts("""{"type":"number","minimum":5,"maximum":35}""", text));

    [Fact]
    public void Digits_are_allowed_only_when_an_in_range_value_can_still_follow()
    {
        var g = new JsonRecognizer(JsonSchemaCompiler.Compile("""{"type":"integer","minimum":50,"maximum":60}"""));
        Assert.NotEmpty(g.Advance(g.Start, "5"u8));
        Assert.NotEmpty(g.Advance(g.Start, "6"u8));
        Assert.Empty(g.Advance(g.Start, "7"u8));     // 7, 70.. are all out of range
        Assert.Empty(g.Advance(g.Start, "61"u8));
        Assert.False(JsonRecognizer.CanEnd(g.Advance(g.Start, "5"u8)));
        Assert.True(JsonRecognizer.CanEnd(g.Advance(g.Start, "55"u8)));
    }

    [Theory]
    [InlineData("\"h\u00e9llo\"", true)]
    [InlineData("\"a\\n\\\"b\\u00e9\"", true)]
    [InlineData("\"\\ud800\"", false)]           // lone surrogate escape
    [InlineData("\"a\u0001\"", false)]           // raw control character
    [InlineData("\"abcdefghi\"", false)]          // longer than maxLength 8
    public void Strings(string text, bool valid) => Assert.Equal(valid, Accepts("""{"type":"string","maxLength":8}""", text));

    [Fact]
    public void Invalid_utf8_is_rejected_byte_by_byte()
    {
        var g = new JsonRecognizer(JsonSchemaCompiler.Compile("""{"type":"string"}"""));
        Assert.Empty(g.Advance(g.Start, [(byte)'"', 0xC0]));            // overlong lead
        Assert.Empty(g.Advance(g.Start, [(byte)'"', 0xE0, 0x80]));      // overlong 3-byte form
        Assert.Empty(g.Advance(g.Start, [(byte)'"', 0xED, 0xA0]));      // surrogate
        Assert.Empty(g.Advance(g.Start, [(byte)'"', 0xC3, (byte)'"'])); // unfinished character
        Assert.NotEmpty(g.Advance(g.Start, [(byte)'"', 0xF0, 0x9F, 0x98]));
    }

    [Fact]
    public void Enum_values_that_prefix_each_other_end_lazily()
    {
        var schema = """{"type":"array","items":{"enum":[1,10,100]}}""";
        Assert.True(Accepts(schema, "[1,10,100]"));
        Assert.False(Accepts(schema, "[1000]"));
        Assert.False(Accepts(schema, "[11]"));
    }

    [Theory]
    [InlineData("""{"type":"string","pattern":"a+"}""")]
    [InlineData("""{"type":"object","properties":{"a":{"$ref":"#/x"}}}""")]
    [InlineData("""{"type":"date"}""")]
    [InlineData("""{"properties":{}}""")]
    public void Unsupported_keywords_are_named(string schema) =>
        Assert.Throws<NotSupportedException>(() => JsonSchemaCompiler.Compile(schema));

    [Fact]
    public void Inconsistent_schemas_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => JsonSchemaCompiler.Compile("""{"type":"integer","minimum":5,"maximum":4}"""));
        Assert.Throws<ArgumentException>(() => JsonSchemaCompiler.Compile("""{"type":"object","required":["a"]}"""));
    }

    [Fact]
    public void A_token_spanning_several_terminals_is_allowed_only_where_all_its_bytes_fit()
    {
        var trie = GrammarMaskPropertyTests.MixedVocabulary();
        int Token(string s) => Enumerable.Range(0, trie.VocabSize).First(i => trie.TokenBytes[i].AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(s)));
        var schema = JsonSchemaCompiler.Compile("""{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}""");
        var mask = new GrammarMask(new JsonRecognizer(schema), trie);
        foreach (var t in "[{\"name\":\"a")
        {
            Assert.True(mask.IsAllowed(t + 1), $"byte '{t}'");
            mask.Accept(t + 1);      // byte tokens are id = byte + 1
        }
        Assert.True(mask.IsAllowed(Token("\"},{\"")));
        Assert.True(mask.IsAllowed(Token("\"}")));
        Assert.False(mask.IsAllowed(Token("\":\"")));
        Assert.True(mask.IsAllowed(Token("é")));
        Assert.True(mask.IsAllowed(Token("\\u00e9")));
        mask.Accept(trie.VocabSize - 4);           // 0xC3: half of é
        Assert.True(mask.IsAllowed(trie.VocabSize - 3));   // 0xA9 + quote
        Assert.False(mask.IsAllowed(Token("\"}")));
        Assert.False(mask.IsAllowed(0));           // end of generation only when complete
    }
    [Fact]
    public void A_clone_goes_its_own_way_from_the_same_state()
    {
        var trie = GrammarMaskPropertyTests.MixedVocabulary();
        var schema = JsonSchemaCompiler.Compile("""{"enum":["ab","ac"]}""");
        var mask = new GrammarMask(new JsonRecognizer(schema), trie);
        foreach (var t in "\"a")
        {
            mask.Accept(t + 1);      // byte tokens are id = byte + 1
        }
        var clone = mask.Clone();
        clone.Accept('b' + 1);
        Assert.True(mask.IsAllowed('b' + 1));
        Assert.True(mask.IsAllowed('c' + 1));
        Assert.False(clone.IsAllowed('c' + 1));
        mask.Accept('c' + 1);
        mask.Accept('"' + 1);
        clone.Accept('"' + 1);
        Assert.Equal("\"ac\""u8.ToArray(), mask.Output);
        Assert.Equal("\"ab\""u8.ToArray(), clone.Output);
        Assert.True(mask.IsFinished && clone.IsFinished);
    }
}
