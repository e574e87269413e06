using EdgeAgent.Training.Data;
using EdgeAgent.Training.Model;

namespace EdgeAgent.Training.Tests;

public sealed class DocumentDatasetTests
{
    [Fact]
    public void Sequences_start_at_documents_and_unscored_tokens_are_not_targets()
    {
        // Documents whose first token tells them apart; the second half of each is "the answer".
        var docs = Enumerable.Range(0, 5).Select(d => Enumerable.Range(0, 10).Select(i => 100 * (d + 1) + i).ToArray()).ToList();
        var scored = docs.Select(d => d.Select((_, i) => i >= 5).ToArray()).ToList();
        var data = new TokenDataset(docs, bos: 0, scored);
        var inputs = new int[4 * 8];
        var targets = new int[4 * 8];
        data.SampleBatch(new Rng(3), 4, 8, inputs, targets);
        for (int b = 0; b < 4; b++)
        {
            Assert.Equal(0, inputs[b * 8]);
            int first = inputs[b * 8 + 1];
            Assert.Equal(0, first % 100);
            for (int i = 0; i < 8; i++)
            {
                int token = first + i;
                Assert.Equal(token % 100 >= 5 ? token : -1, targets[b * 8 + i]);
            }
        }
    }
}
