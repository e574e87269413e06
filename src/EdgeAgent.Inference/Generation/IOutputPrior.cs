namespace EdgeAgent.Inference.Generation;

/// <summary>
/// Knowledge outside the model that a <see cref="BeamSearch"/> adds to its scores: a potential over the text written so
/// far (in nats, 0 or below). A hypothesis is ranked by its log-probability plus the potential of its output, so a
/// finished document scores log P(document) + potential(document). The potential must never rise as bytes are added
/// (the best any completion of the text can still reach, an optimistic bound), which keeps the search's stopping rule
/// exact. Only the model's most probable allowed tokens at each step (<see cref="BeamSearch.PriorCandidates"/>) are
/// re-ranked: the prior chooses among what the model proposes, it never writes text of its own.
/// </summary>
public interface IOutputPrior
{
    /// <summary>The potential of <paramref name="output"/> (the grammar's bytes so far; may end inside a UTF-8
    /// character).</summary>
    double Potential(ReadOnlySpan<byte> output);
}
