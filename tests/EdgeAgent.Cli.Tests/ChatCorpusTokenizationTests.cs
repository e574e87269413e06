using EdgeAgent.Cli.Commands;
using EdgeAgent.Inference.Tokenizers;
using EdgeAgent.Training.Tokenizers;

namespace EdgeAgent.Cli.Tests;

/// <summary>Chat corpora are tokenized as inference reads chats: markers that are special tokens of the vocabulary
/// (a Hugging Face tokenizer's &lt;|im_start|&gt;) become those tokens, not their text in pieces.</summary>
public sealed class ChatCorpusTokenizationTests
{
    [Fact]
    public void Chat_markers_that_are_special_tokens_are_read_as_them()
    {
        const string chat = "<|im_start|>user\nturn on the lamp<|im_end|>\n<|im_start|>assistant\n{\"ok\":1}\n<|im_end|>\n";
        var bpe = BpeTrainer.Train([string.Concat(Enumerable.Repeat("turn on the lamp {\"ok\":1} user assistant\n", 50))], 300).ToVocab();
        var types = bpe.TokenTypes ?? Enumerable.Repeat((int)TokenType.Normal, bpe.Tokens.Length).ToArray();
        var vocab = bpe with
        {
            Tokens = [.. bpe.Tokens, "<|im_start|>", "<|im_end|>"],
            TokenTypes = [.. types, (int)TokenType.Control, (int)TokenType.Control],
            Scores = bpe.Scores is null ? null : [.. bpe.Scores, 0f, 0f],
        };
        var tok = Tokenizer.Create(vocab);
        int start = bpe.Tokens.Length, end = start + 1;

        var (tokens, scored) = TrainCommand.AssistantSpans(chat, tok);

        Assert.Equal(tok.Encode(chat, parseSpecial: true), tokens);
        Assert.Equal(2, tokens.Count(t => t == start));
        Assert.Equal(2, tokens.Count(t => t == end));
        // The answer and its end marker are scored, the prompt is not.
        Assert.True(scored[Array.LastIndexOf(tokens, end)]);
        Assert.False(scored[Array.IndexOf(tokens, end)]);
        // Without special tokens in the vocabulary the markers stay text (our own BPE): same as inference.
        var plain = Tokenizer.Create(bpe);
        Assert.Equal(plain.Encode(chat, parseSpecial: true), TrainCommand.AssistantSpans(chat, plain).Tokens);
    }
}
