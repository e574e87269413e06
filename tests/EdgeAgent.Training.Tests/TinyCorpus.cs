using EdgeAgent.Inference.Tokenizers;
using EdgeAgent.Training.Data;
using EdgeAgent.Training.Tokenizers;

namespace EdgeAgent.Training.Tests;

/// <summary>A small tokenized slice of TinyShakespeare shared by the trainer tests (built once per test run).</summary>
internal static class TinyCorpus
{
    private static readonly Lazy<(TokenizerVocab Vocab, Tokenizer Tokenizer, TokenDataset Train, string ValidText)> s_data = new(() =>
    {
        var (train, valid) = SharedData.Shakespeare();
        var vocab = BpeTrainer.Train([train[..200_000]], 320).ToVocab();
        var tok = Tokenizer.Create(vocab);
        return (vocab, tok, new TokenDataset(tok.Encode(train[..200_000]), tok.BosId), valid[..8_000]);
    });

    public static TokenizerVocab Vocab => s_data.Value.Vocab;
    public static Tokenizer Tokenizer => s_data.Value.Tokenizer;
    public static TokenDataset Train => s_data.Value.Train;
    public static string ValidText => s_data.Value.ValidText;
    public static int VocabSize => Vocab.Tokens.Length;
}
