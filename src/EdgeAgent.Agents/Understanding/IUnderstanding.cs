using EdgeAgent.Agents.Devices;
using EdgeAgent.Agents.Memory;
using EdgeAgent.Agents.Tools;

namespace EdgeAgent.Agents.Understanding;

/// <summary>What the understanding step sees: the home as it is now, recent events, and the request.</summary>
public sealed record UnderstandingInput(IReadOnlyList<Device> Devices, IReadOnlyList<MemoryEvent> Recent, string Request);

/// <summary>The proposed calls and reply. <see cref="RawOutput"/> is the model's text (null for non-model
/// understanding); <see cref="SchemaValid"/> says whether it was a complete answer of the grammar.</summary>
public sealed record Proposal(IReadOnlyList<ToolCall> Calls, string Reply, string? RawOutput = null, bool SchemaValid = true, int GeneratedTokens = 0);

/// <summary>Turns a request into proposed tool calls.</summary>
public interface IUnderstanding
{
    /// <summary>Shown in output and logs: which module understood the request.</summary>
    string Name { get; }

    /// <summary>True for a language model; false for the rule-based fallback.</summary>
    bool IsLanguageModel { get; }

    Proposal Propose(UnderstandingInput input, CancellationToken cancellation = default);

    /// <summary>Gets ready for requests about this home (a model evaluates the system prompt into its KV cache and
    /// builds the grammar), so that <see cref="Propose"/> measures a warm agent. Optional.</summary>
    void Prepare(UnderstandingInput home)
    {
    }
}
