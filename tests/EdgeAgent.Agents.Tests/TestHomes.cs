using EdgeAgent.Agents;
using EdgeAgent.Agents.Decision;
using EdgeAgent.Agents.Devices;
using EdgeAgent.Agents.Execution;
using EdgeAgent.Agents.Memory;
using EdgeAgent.Agents.Perception;
using EdgeAgent.Agents.Tools;
using EdgeAgent.Agents.Understanding;
using EdgeAgent.Inference.Generation;
using EdgeAgent.Inference.Model;

namespace EdgeAgent.Agents.Tests;

internal static class TestHomes
{
    /// <summary>An agent on the demo home with the in-process executor and in-memory SQLite.</summary>
    public static (AgentLoop Loop, DeviceRegistry Registry, AgentMemory Memory) Agent(IUnderstanding understanding, List<Device>? devices = null)
    {
        var registry = new DeviceRegistry(devices ?? DemoHome.Create());
        var memory = new AgentMemory(":memory:");
        var loop = new AgentLoop(registry, understanding, new Policy(registry), new LocalExecutor(registry), memory, TimeProvider.System, new MemoryLog());
        return (loop, registry, memory);
    }

    public static Task<AgentTurn> Ask(this AgentLoop loop, string text, bool confirmed = false, bool dryRun = false) =>
        loop.HandleAsync(Observation.Command(DateTimeOffset.UtcNow, text, confirmed), dryRun, CancellationToken.None);

    private static readonly Lazy<string> RandomModelPath = new(() =>
    {
        string path = Path.Combine(Path.GetTempPath(), $"edgeagent-agents-random-{Environment.ProcessId}.gguf");
        // Shared by every class of the run; xunit 2 has no assembly fixture, so it is deleted when the test process exits.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort: Windows refuses to delete a file a loaded model still maps; a throw here would crash the host.
            }
        };
        RandomModel.Write(path, new RandomModelShape("llama", Dim: 32, Layers: 1, Heads: 2, KvHeads: 1, FfnDim: 64, VocabSize: 300, ContextLength: 4096), seed: 5);
        return path;
    });

    /// <summary>A random-weight model (byte-level stand-in vocabulary) as the understanding module.</summary>
    public static LlmUnderstanding RandomLlm(int beams = 1, bool splitClauses = false, GroundingWeights? grounding = null) =>
        new(new InferenceSession(LlamaModel.Load(RandomModelPath.Value), threads: 1, ownsModel: true), "llm:random", maxTokens: 3000, beamWidth: beams, grounding: grounding, splitClauses: splitClauses);
}

/// <summary>An understanding module that always proposes the given calls (a worst-case model).</summary>
internal sealed class ScriptedUnderstanding(params ToolCall[] calls) : IUnderstanding
{
    public string Name => "scripted";
    public bool IsLanguageModel => false;
    public Proposal Propose(UnderstandingInput input, CancellationToken cancellation = default) => new(calls, "ok");
}
