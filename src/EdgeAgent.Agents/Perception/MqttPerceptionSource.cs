using System.Buffers;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using EdgeAgent.Agents.Mqtt;
using MQTTnet;

namespace EdgeAgent.Agents.Perception;

/// <summary>
/// Turns device state messages on MQTT (<c>{prefix}/{entity_id}/state</c>) into observations. A payload that is not a
/// JSON object with a string or number <c>state</c> is logged and ignored.
/// </summary>
public sealed class MqttPerceptionSource(string host, int port, MqttTopics topics, TimeProvider time, IAgentLog log) : IPerceptionSource
{
    public string Name => "mqtt";

    /// <summary>Completes once subscribed (so a test or the demo knows messages will be seen).</summary>
    public Task Ready => _ready.Task;

    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task RunAsync(ChannelWriter<Observation> sink, CancellationToken cancellation)
    {
        using var client = await MqttConnect.ClientAsync(host, port, "edgeagent-perception-" + Guid.NewGuid().ToString("N")[..8], cancellation).ConfigureAwait(false);
        client.ApplicationMessageReceivedAsync += e =>
        {
            var o = Parse(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray());
            if (o is not null)
            {
                sink.TryWrite(o);
            }
            return Task.CompletedTask;
        };
        await MqttConnect.SubscribeAsync(client, topics.AllStates, cancellation).ConfigureAwait(false);
        _ready.TrySetResult();
        try
        {
            await Task.Delay(Timeout.Infinite, cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        if (client.IsConnected)
        {
            await client.DisconnectAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The observation in one message, or null (logged) when the message is unusable.</summary>
    public Observation? Parse(string topic, ReadOnlySpan<byte> payload)
    {
        string? entity = topics.EntityOf(topic, "state");
        if (entity is null)
        {
            log.Warn($"ignored MQTT message on {topic}: not a device state topic");
            return null;
        }
        var obj = MqttTopics.ParseObject(payload, out var error);
        if (obj is null)
        {
            log.Warn($"ignored MQTT message on {topic}: {error}");
            return null;
        }
        string? state = obj["state"] switch
        {
            JsonValue v when v.TryGetValue(out string? s) => s,
            JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.Number => v.ToJsonString(),
            _ => null,
        };
        if (state is null)
        {
            log.Warn($"ignored MQTT message on {topic}: no string or number \"state\"");
            return null;
        }
        var attributes = obj["attributes"] as JsonObject;
        return Observation.StateOf(time.GetUtcNow(), "mqtt", entity, Devices.HomeFile.Clip(state), (JsonObject?)attributes?.DeepClone());
    }
}
