using System.Buffers;
using System.Text.Json.Nodes;
using EdgeAgent.Agents.Devices;
using EdgeAgent.Agents.Mqtt;
using EdgeAgent.Agents.Perception;
using MQTTnet;

namespace EdgeAgent.Agents.Execution;

/// <summary>
/// Simulated devices on MQTT: each applies the commands published to its <c>set</c> topic and publishes its new
/// state (retained), as real Home-Assistant-style devices do. Also lets a script publish sensor readings and
/// arbitrary (even hostile) payloads.
/// </summary>
public sealed class SimulatedHome : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly MqttTopics _topics;
    private readonly IAgentLog _log;
    private readonly Dictionary<string, Device> _devices;
    private readonly SemaphoreSlim _gate = new(1, 1);

    private SimulatedHome(IMqttClient client, MqttTopics topics, IEnumerable<Device> devices, IAgentLog log)
    {
        _client = client;
        _topics = topics;
        _log = log;
        _devices = devices.ToDictionary(d => d.EntityId, StringComparer.Ordinal);
    }

    /// <summary>Notifications received on the notify topic.</summary>
    public List<string> Notifications { get; } = [];

    public static async Task<SimulatedHome> StartAsync(string host, int port, MqttTopics topics, IEnumerable<Device> devices, IAgentLog log, CancellationToken cancellation)
    {
        var client = await MqttConnect.ClientAsync(host, port, "edgeagent-simulated-home", cancellation).ConfigureAwait(false);
        var home = new SimulatedHome(client, topics, devices, log);
        client.ApplicationMessageReceivedAsync += e => home.OnMessageAsync(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray());
        await MqttConnect.SubscribeAsync(client, topics.AllSets, cancellation).ConfigureAwait(false);
        await MqttConnect.SubscribeAsync(client, topics.Notify, cancellation).ConfigureAwait(false);
        foreach (var d in home._devices.Values)
        {
            await home.PublishStateAsync(d, cancellation).ConfigureAwait(false);
        }
        return home;
    }

    /// <summary>The simulator's own view of a device.</summary>
    public Device? Find(string entityId)
    {
        _gate.Wait();
        try
        {
            return _devices.GetValueOrDefault(entityId);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A device changes by itself (a sensor reading, motion) and reports it.</summary>
    public async Task ReportAsync(string entityId, string state, JsonObject? attributes, CancellationToken cancellation)
    {
        Device d;
        await _gate.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            d = _devices[entityId].With(state, attributes);
            _devices[entityId] = d;
        }
        finally
        {
            _gate.Release();
        }
        await PublishStateAsync(d, cancellation).ConfigureAwait(false);
    }

    /// <summary>Publishes raw bytes on a device's state topic (for hostile-input scripts).</summary>
    public Task PublishRawAsync(string entityId, string payload, CancellationToken cancellation) =>
        MqttConnect.PublishAsync(_client, _topics.State(entityId), payload, retain: false, cancellation);

    private async Task OnMessageAsync(string topic, byte[] payload)
    {
        if (topic == _topics.Notify)
        {
            var n = MqttTopics.ParseObject(payload, out _);
            lock (Notifications)
            {
                Notifications.Add(n?["message"]?.ToString() ?? "");
            }
            return;
        }
        string? id = _topics.EntityOf(topic, "set");
        var command = MqttTopics.ParseObject(payload, out var error);
        if (id is null || command is null || command["service"] is not JsonValue s || !s.TryGetValue(out string? service))
        {
            _log.Warn($"simulated home ignored a command on {topic}: {error ?? "no service"}");
            return;
        }
        Device? updated = null;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_devices.TryGetValue(id, out var d) && DeviceCommands.Apply(d, service, command) is { } next)
            {
                updated = d.With(next.State, next.Attributes);
                _devices[id] = updated;
            }
        }
        finally
        {
            _gate.Release();
        }
        if (updated is null)
        {
            _log.Warn($"simulated home: {id} cannot {service}");
            return;
        }
        await PublishStateAsync(updated, CancellationToken.None).ConfigureAwait(false);
    }

    private Task PublishStateAsync(Device d, CancellationToken cancellation)
    {
        var payload = new JsonObject { ["state"] = d.State, ["attributes"] = d.Attributes.DeepClone() };
        return MqttConnect.PublishAsync(_client, _topics.State(d.EntityId), payload.ToJsonString(), retain: true, cancellation);
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            await _client.DisconnectAsync().ConfigureAwait(false);
        }
        _client.Dispose();
        _gate.Dispose();
    }
}
