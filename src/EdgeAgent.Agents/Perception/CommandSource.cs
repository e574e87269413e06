using System.Threading.Channels;

namespace EdgeAgent.Agents.Perception;

/// <summary>Typed (or transcribed spoken) commands, submitted by a console, a script or a test.</summary>
public sealed class CommandSource(TimeProvider time) : IPerceptionSource
{
    private readonly Channel<Observation> _pending = Channel.CreateUnbounded<Observation>();

    public string Name => "commands";

    /// <summary>Queues a command; an empty one is rejected here, at the boundary.</summary>
    /// <exception cref="ArgumentException">The command is empty.</exception>
    public void Submit(string text, bool confirmed = false)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ArgumentException("the command is empty");
        }
        _pending.Writer.TryWrite(Observation.Command(time.GetUtcNow(), text.Trim(), confirmed));
    }

    public async Task RunAsync(ChannelWriter<Observation> sink, CancellationToken cancellation)
    {
        await foreach (var o in _pending.Reader.ReadAllAsync(cancellation).ConfigureAwait(false))
        {
            await sink.WriteAsync(o, cancellation).ConfigureAwait(false);
        }
    }
}

/// <summary>Fires a <see cref="ObservationKind.Tick"/> every period (on the given <see cref="TimeProvider"/>).</summary>
public sealed class TimerSource(TimeProvider time, TimeSpan period, string name = "timer") : IPerceptionSource
{
    public string Name => name;

    public async Task RunAsync(ChannelWriter<Observation> sink, CancellationToken cancellation)
    {
        using var timer = new PeriodicTimer(period, time);
        while (await timer.WaitForNextTickAsync(cancellation).ConfigureAwait(false))
        {
            await sink.WriteAsync(new Observation(time.GetUtcNow(), ObservationKind.Tick, name), cancellation).ConfigureAwait(false);
        }
    }
}
