using System.Text;
using CsCheck;
using EdgeAgent.Inference.Constraints;

namespace EdgeAgent.Inference.Tests.Constraints;

/// <summary><see cref="TokenTrie.AddPrefixTokens"/>: exactly the tokens whose bytes start a text.</summary>
public sealed class TokenTrieTests
{
    [Fact]
    public void Prefix_tokens_are_exactly_the_tokens_that_start_the_text()
    {
        string[] vocab = ["", "p", "pr", "pra", "prac", "practice", "ract", "a", "ab", "é", "pré", "\"", "\\\"a"];
        var trie = new TokenTrie(vocab.Select(Encoding.UTF8.GetBytes).ToArray(), [0]);
        var found = new List<int>();
        trie.AddPrefixTokens("practice starts"u8, found);
        Assert.Equal([1, 2, 3, 4, 5], found.Order());
        found.Clear();
        trie.AddPrefixTokens("\\\"ab"u8, found);
        Assert.Equal([12], found);
        found.Clear();
        trie.AddPrefixTokens(""u8, found);
        Assert.Empty(found);

        // Against the definition, for random texts over the vocabulary's bytes.
        Gen.String[Gen.Char["prace\"\\"], 0, 12].Sample(text =>
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            var got = new List<int>();
            trie.AddPrefixTokens(bytes, got);
            var want = Enumerable.Range(0, vocab.Length).Where(i => vocab[i].Length > 0 && bytes.AsSpan().StartsWith(Encoding.UTF8.GetBytes(vocab[i])));
            Assert.Equal(want, got.Order());
        });
    }
}
