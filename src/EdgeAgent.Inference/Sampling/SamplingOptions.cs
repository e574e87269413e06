namespace EdgeAgent.Inference.Sampling;

/// <summary>Sampler settings, with llama.cpp's defaults. <see cref="Temperature"/> ≤ 0 means greedy.</summary>
public sealed record SamplingOptions
{
    public float Temperature { get; init; } = 0.8f;
    /// <summary>Keep the k most likely tokens; ≤ 0 disables.</summary>
    public int TopK { get; init; } = 40;
    /// <summary>Nucleus: keep the smallest set whose probability reaches p; ≥ 1 disables.</summary>
    public float TopP { get; init; } = 0.95f;
    /// <summary>Keep tokens with probability ≥ min_p · p_max; ≤ 0 disables.</summary>
    public float MinP { get; init; } = 0.05f;
    /// <summary>Divide positive logits (multiply negative ones) of recent tokens; 1 disables.</summary>
    public float RepeatPenalty { get; init; } = 1.0f;
    /// <summary>How many recent tokens the repeat penalty looks at.</summary>
    public int RepeatLastN { get; init; } = 64;
    public ulong Seed { get; init; } = 0x5EED;

    public static SamplingOptions Greedy { get; } = new() { Temperature = 0 };

    /// <summary>Checks ranges; throws <see cref="ArgumentException"/> naming the bad setting.</summary>
    public void Validate()
    {
        if (float.IsNaN(Temperature) || Temperature < 0)
        {
            throw new ArgumentException($"temperature must be ≥ 0, got {Temperature}");
        }
        if (float.IsNaN(TopP) || TopP <= 0 || TopP > 1)
        {
            throw new ArgumentException($"top-p must be in (0, 1], got {TopP}");
        }
        if (float.IsNaN(MinP) || MinP < 0 || MinP > 1)
        {
            throw new ArgumentException($"min-p must be in [0, 1], got {MinP}");
        }
        if (float.IsNaN(RepeatPenalty) || RepeatPenalty <= 0)
        {
            throw new ArgumentException($"repeat penalty must be > 0, got {RepeatPenalty}");
        }
        if (RepeatLastN < 0)
        {
            throw new ArgumentException($"repeat-last-n must be ≥ 0, got {RepeatLastN}");
        }
    }
}
