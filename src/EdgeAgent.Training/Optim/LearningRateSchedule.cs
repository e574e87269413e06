namespace EdgeAgent.Training.Optim;

/// <summary>Linear warm-up to the peak rate, then cosine decay to <c>MinFraction</c> of it at the last step.</summary>
public sealed record LearningRateSchedule(float Peak, int WarmupSteps, int TotalSteps, float MinFraction = 0.1f)
{
    /// <summary>Rate for step <paramref name="step"/> (0-based).</summary>
    public float At(int step)
    {
        if (step < WarmupSteps)
        {
            return Peak * (step + 1) / WarmupSteps;
        }
        int decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        double progress = Math.Min(1.0, (double)(step - WarmupSteps) / decaySteps);
        double min = Peak * MinFraction;
        return (float)(min + (Peak - min) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
}
