using System.Text;
using System.Text.Json;
using CsCheck;
using EdgeAgent.Inference.Constraints;
using Json.Schema;

namespace EdgeAgent.Inference.Tests.Constraints;

/// <summary>
/// The mask's promise: whatever the model picks among the allowed tokens, the output is JSON that parses and
/// validates against the schema, and generation ends. Random choices stand in for any model.
/// </summary>
public sealed class GrammarMaskPropertyTests
{
    internal static readonly string[] Schemas =
    [
        // a tool call, as the agent builds it: tool names and entity ids are enums, numbers have ranges
        """
        {"type":"object","properties":{
          "tool_calls":{"type":"array","maxItems":3,"items":{"anyOf":[
            {"type":"object","properties":{"name":{"const":"light.turn_on"},"arguments":{"type":"object","properties":{
              "entity_id":{"enum":["light.kitchen","light.kitchen_ceiling","light.bedroom"]},
              "brightness":{"type":"integer","minimum":0,"maximum":100}},"required":["entity_id"]}},"required":["name","arguments"]},
            {"type":"object","properties":{"name":{"const":"climate.set_temperature"},"arguments":{"type":"object","properties":{
              "entity_id":{"enum":["climate.living_room"]},
              "temperature":{"type":"number","minimum":5,"maximum":35}},"required":["entity_id","temperature"]}},"required":["name","arguments"]},
            {"type":"object","properties":{"name":{"const":"notify.send"},"arguments":{"type":"object","properties":{
              "message":{"type":"string","maxLength":24}},"required":["message"]}},"required":["name","arguments"]}
          ]}},
          "reply":{"type":"string","maxLength":20}},"required":["tool_calls","reply"]}
        """,
        // scalars with awkward ranges, optional properties, type lists
        """
        {"type":"object","properties":{
          "a":{"type":"integer","minimum":-17,"maximum":-3},
          "b":{"type":"number","minimum":-1.5,"maximum":0.25},
          "c":{"type":["boolean","null"]},
          "d":{"type":"string","minLength":2,"maxLength":5},
          "e":{"type":"integer","minimum":95,"maximum":1200},
          "f":{"enum":[1,10,100,"x",true,null]}},"required":["a","d"]}
        """,
        // nested arrays of objects, empty-able
        """
        {"type":"array","minItems":1,"maxItems":4,"items":{"type":"object","properties":{
          "id":{"type":"integer","minimum":0,"maximum":9},
          "tags":{"type":"array","maxItems":2,"items":{"type":"string","maxLength":3}}},"required":["tags"]}}
        """,
        """{"type":"number","minimum":3.14159,"maximum":3.1416}""",
        """{"type":"object","properties":{"x":{"type":"string","maxLength":4}}}""",
    ];

    /// <summary>A byte-level vocabulary (every byte a token) plus tokens that span terminals, keys, enum values,
    /// digits and partial UTF-8 characters; id 0 is the end-of-generation token (no bytes).</summary>
    internal static TokenTrie MixedVocabulary()
    {
        var tokens = new List<byte[]> { Array.Empty<byte>() };
        for (int b = 0; b < 256; b++)
        {
            tokens.Add([(byte)b]);
        }
        string[] pieces =
        [
            "{\"", "\"}", "\":\"", "\",\"", "\"},{\"", "\":[", "]}", "\":{\"", "}}", "}]", "\"}]", "light.", "kitchen", "_ceiling",
            "entity_id", "\"name\":\"", "arguments", "turn_on", "climate.", "notify.send", "tool_calls", "reply", "\":", ",\"",
            "12", "3.", "0.5", "100", "-1", "true", "null", " ", ": ", ", ", "\\u00e9", "\\n", "é", "€", "😀", "\"\"", "[]", "{}",
        ];
        foreach (var p in pieces)
        {
            tokens.Add(Encoding.UTF8.GetBytes(p));
        }
        tokens.Add([0xC3]);              // first byte of é: the next token must complete it
        tokens.Add([0xA9, (byte)'"']);   // é's second byte and a closing quote
        tokens.Add([0xE2, 0x82]);        // two of €'s three bytes
        tokens.Add([0xF0, 0x9F, 0x98]);  // three of 😀's four bytes
        return new TokenTrie(tokens, [0]);
    }

    [Fact]
    public void Random_choices_under_the_mask_always_give_schema_valid_json()
    {
        var trie = MixedVocabulary();
        var compiled = Schemas.Select(s => (Node: JsonSchemaCompiler.Compile(s), Validator: JsonSchema.FromText(s, new BuildOptions { SchemaRegistry = new() }))).ToArray();
        Gen.Select(Gen.Int[0, Schemas.Length - 1], Gen.ULong, Gen.Int[0, 2]).Sample((which, seed, ws) =>
        {
            var (node, validator) = compiled[which];
            var options = new GrammarOptions { MaxWhitespace = ws };
            string text = GenerateRandom(node, trie, seed, options);
            using var parsed = JsonDocument.Parse(text); // valid JSON and UTF-8 as generated
            // JsonSchema.Net measures minLength/maxLength in grapheme clusters, JSON Schema (and our grammar) in code
            // points: a combining mark ("Ѥॗ" is 2 code points, 1 grapheme) would fail a correct document. The oracle
            // sees every non-ASCII code point as '§' (one code point, one grapheme); the schemas here constrain
            // non-ASCII text only by its length.
            var ascii = new StringBuilder(text.Length);
            foreach (var rune in text.EnumerateRunes())
            {
                ascii.Append(rune.Value < 128 ? (char)rune.Value : '§');
            }
            using var doc = JsonDocument.Parse(ascii.ToString());
            var result = validator.Evaluate(doc.RootElement);
            Assert.True(result.IsValid, $"schema {which} rejected {text}");
        }, iter: 400, threads: 1);
    }

    /// <summary>Picks uniformly among allowed tokens until the mask finishes or an end token is drawn.</summary>
    internal static string GenerateRandom(SchemaNode node, TokenTrie trie, ulong seed, GrammarOptions? options = null)
    {
        var mask = new GrammarMask(new JsonRecognizer(node, options), trie);
        var rng = new Random((int)(seed ^ (seed >> 32)));
        for (int step = 0; step < 5000; step++)
        {
            if (mask.IsFinished)
            {
                break;
            }
            var allowed = mask.AllowedTokens();
            Assert.NotEmpty(allowed);
            int token = allowed[rng.Next(allowed.Count)];
            mask.Accept(token);
        }
        Assert.True(mask.IsFinished, "generation did not finish in 5000 tokens");
        var bytes = mask.Output;
        Assert.True(new JsonRecognizer(node, options).Accepts(bytes));
        return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
    }
}
