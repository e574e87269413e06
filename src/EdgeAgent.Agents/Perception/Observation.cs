using System.Text.Json.Nodes;

namespace EdgeAgent.Agents.Perception;

public enum ObservationKind
{
    /// <summary>A device reported a state (from MQTT or a simulator).</summary>
    StateChanged,

    /// <summary>A person typed or said a command.</summary>
    Command,

    /// <summary>A timer fired.</summary>
    Tick,
}

/// <summary>
/// Something the agent perceived. Only <see cref="ObservationKind.Command"/> observations come from a person and
/// can start a decision; text in state observations is data about a device.
/// </summary>
public sealed record Observation(DateTimeOffset Time, ObservationKind Kind, string Source)
{
    public string? EntityId { get; init; }
    public string? State { get; init; }
    public JsonObject? Attributes { get; init; }

    /// <summary>The command's words (Command observations).</summary>
    public string? Text { get; init; }

    /// <summary>The person confirmed sensitive actions (e.g. <c>--confirm</c>, or "yes" in a dialogue).</summary>
    public bool Confirmed { get; init; }

    public static Observation Command(DateTimeOffset time, string text, bool confirmed = false, string source = "user") =>
        new(time, ObservationKind.Command, source) { Text = text, Confirmed = confirmed };

    public static Observation StateOf(DateTimeOffset time, string source, string entityId, string state, JsonObject? attributes) =>
        new(time, ObservationKind.StateChanged, source) { EntityId = entityId, State = state, Attributes = attributes };
}

/// <summary>A source of observations (MQTT, timers, typed commands…): runs until cancelled, writing to the sink.</summary>
public interface IPerceptionSource
{
    string Name { get; }

    Task RunAsync(System.Threading.Channels.ChannelWriter<Observation> sink, CancellationToken cancellation);
}

/// <summary>Where the agent writes its readable log (the demo prints it; tests collect it).</summary>
public interface IAgentLog
{
    void Info(string message);

    void Warn(string message);
}

/// <summary>A log that keeps lines in memory (and optionally forwards them).</summary>
public sealed class MemoryLog(Action<string>? forward = null) : IAgentLog
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public void Info(string message) => Add(message);

    public void Warn(string message) => Add("warning: " + message);

    private void Add(string line)
    {
        lock (_lines)
        {
            _lines.Add(line);
        }
        forward?.Invoke(line);
    }
}
