namespace EdgeAgent.Inference.Sampling;

/// <summary>
/// Restricts which tokens may come next (constrained decoding): <see cref="Apply"/> sets the logits of
/// forbidden tokens to negative infinity before sampling; <see cref="Accept"/> advances its state.
/// </summary>
public interface ITokenMask
{
    void Apply(Span<float> logits);

    void Accept(int token);

    /// <summary>True when the constraint is satisfied and admits nothing more: the generation loop stops.</summary>
    bool IsFinished => false;
}
