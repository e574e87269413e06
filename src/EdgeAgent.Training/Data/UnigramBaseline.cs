namespace EdgeAgent.Training.Data;

/// <summary>
/// The unigram baseline a language model must beat: each token predicted by its training-set frequency, add-one
/// (Laplace) smoothed over the vocabulary so an unseen token has finite cost.
/// </summary>
public static class UnigramBaseline
{
    /// <summary>Mean negative log-likelihood per token (nats) of <paramref name="eval"/> under the unigram model of
    /// <paramref name="train"/>; exp of it is the perplexity.</summary>
    public static double MeanNll(ReadOnlySpan<int> train, ReadOnlySpan<int> eval, int vocabSize)
    {
        if (eval.IsEmpty)
        {
            throw new ArgumentException("the evaluation text has no tokens");
        }
        var counts = new long[vocabSize];
        foreach (int t in train)
        {
            counts[t]++;
        }
        double total = train.Length + vocabSize;
        double nll = 0;
        foreach (int t in eval)
        {
            nll -= Math.Log((counts[t] + 1) / total);
        }
        return nll / eval.Length;
    }
}
