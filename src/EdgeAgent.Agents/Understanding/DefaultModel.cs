namespace EdgeAgent.Agents.Understanding;

/// <summary>
/// The embedded default model: <c>models/agent-4x128.gguf</c>, trained by our trainer on the synthetic training split
/// (<c>scripts/train-agent-model.sh</c>; docs/agents.md → "The default model"). It is copied beside the
/// <c>edgeagent</c> executable (<c>models/</c>); from a checkout it is also found by walking up from the current and
/// the executable's folder.
/// </summary>
public static class DefaultModel
{
    public const string FileName = "agent-4x128.gguf";

    /// <summary>Context allocated for it: a 100-device home's prompt is up to ~2,100 tokens of its 1,024-token BPE.</summary>
    public const int Context = 4096;

    /// <summary>
    /// Beam width it is decoded with by default. Chosen on the development set (eval/agents/eval-set-unseen-verbs.jsonl),
    /// not on the held-out set: with the grounding prior 2 beams 81.7 %, 3 beams 83.0 %, 4 beams 83.7 % exact (p95 109
    /// against 188 ms for 4); docs/agents.md → Grammar.
    /// </summary>
    public const int BeamWidth = 3;

    /// <summary>The model's path, or null when it is nowhere to be found.</summary>
    public static string? Find()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "models", FileName);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        return null;
    }
}
