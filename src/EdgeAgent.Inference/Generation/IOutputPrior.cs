namespace EdgeAgent.Inference.Generation;

/// <summary>
/// Knowledge outside the model that a <see cref="BeamSearch"/> adds to its scores: a potential over the text written so
/// far (in nats, 0 or below). A hypothesis is ranked by its log-probability plus the potential of its output, so a
/// finished document scores log P(document) + potential(document). The potential must never rise as bytes are added
/// (the best any completion of the text can still reach, an optimistic bound), which keeps the search's stopping rule
/// exact. At each step the search re-ranks the model's most probable allowed tokens
/// (<see cref="BeamSearch.PriorCandidates"/>) and the tokens that start one of the prior's
/// <see cref="Continuations"/>: the prior may nominate text, but the model scores it and the grammar must allow it.
/// </summary>
public interface IOutputPrior
{
    /// <summary>The potential of <paramref name="output"/> (the grammar's bytes so far; may end inside a UTF-8
    /// character).</summary>
    double Potential(ReadOnlySpan<byte> output);

    /// <summary>Texts that could follow <paramref name="output"/> (as the grammar writes them: JSON-escaped, UTF-8),
    /// such as the rest of a word the prior wants copied from the user's request. Every allowed token whose bytes are
    /// a prefix of one of them joins the candidates of the step, however improbable the model finds it. None by
    /// default.</summary>
    IReadOnlyList<byte[]> Continuations(ReadOnlySpan<byte> output) => [];
}
