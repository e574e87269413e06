using System.Text.Json.Nodes;
using EdgeAgent.Agents.Devices;
using EdgeAgent.Agents.Mqtt;
using EdgeAgent.Agents.Tools;
using MQTTnet;

namespace EdgeAgent.Agents.Execution;

/// <summary>The outcome of carrying out one call.</summary>
public sealed record ExecutionResult(bool Ok, string Detail);

/// <summary>Carries out allowed tool calls.</summary>
public interface IExecutor
{
    Task<ExecutionResult> ExecuteAsync(ToolCall call, CancellationToken cancellation);
}

/// <summary>Reads (<c>sensor.read</c>) are answered from the registry by every executor.</summary>
internal static class Reads
{
    public static ExecutionResult? TryRead(ToolCall call, DeviceRegistry registry)
    {
        if (call.Name != "sensor.read")
        {
            return null;
        }
        var d = call.EntityId is { } id ? registry.Find(id) : null;
        return d is null
            ? new ExecutionResult(false, $"no such sensor: {call.EntityId}")
            : new ExecutionResult(true, $"{d.Name}: {DeviceCommands.Describe(d)}");
    }
}

/// <summary>Applies calls to the registry directly (no broker): the in-process simulated home of <c>agent ask</c>.</summary>
public sealed class LocalExecutor(DeviceRegistry registry, IAgentLogSink? notifications = null) : IExecutor
{
    public Task<ExecutionResult> ExecuteAsync(ToolCall call, CancellationToken cancellation)
    {
        if (Reads.TryRead(call, registry) is { } read)
        {
            return Task.FromResult(read);
        }
        if (call.Name == "notify.send")
        {
            string message = call.Arguments["message"]?.GetValue<string>() ?? "";
            notifications?.Notify(message);
            return Task.FromResult(new ExecutionResult(true, $"notified: {message}"));
        }
        var d = call.EntityId is { } id ? registry.Find(id) : null;
        if (d is null)
        {
            return Task.FromResult(new ExecutionResult(false, $"no such device: {call.EntityId}"));
        }
        if (DeviceCommands.Apply(d, DeviceCommands.Service(call.Name), call.Arguments) is not { } next)
        {
            return Task.FromResult(new ExecutionResult(false, $"{d.EntityId} does not support {call.Name}"));
        }
        registry.Update(d.EntityId, next.State, next.Attributes);
        return Task.FromResult(new ExecutionResult(true, $"{d.EntityId} → {DeviceCommands.Describe(registry.Find(d.EntityId)!)}"));
    }
}

/// <summary>Receives notify.send messages.</summary>
public interface IAgentLogSink
{
    void Notify(string message);
}

/// <summary>
/// Publishes calls as MQTT commands (<c>{prefix}/{entity_id}/set</c>) and waits for the device to report its new
/// state through perception (the registry), so the result in the trace is what the device says, not what was sent.
/// </summary>
public sealed class MqttExecutor(IMqttClient client, MqttTopics topics, DeviceRegistry registry, TimeSpan? confirmTimeout = null) : IExecutor
{
    private readonly TimeSpan _timeout = confirmTimeout ?? TimeSpan.FromSeconds(3);

    public async Task<ExecutionResult> ExecuteAsync(ToolCall call, CancellationToken cancellation)
    {
        if (Reads.TryRead(call, registry) is { } read)
        {
            return read;
        }
        if (call.Name == "notify.send")
        {
            var payload = new JsonObject { ["message"] = call.Arguments["message"]?.DeepClone() };
            await MqttConnect.PublishAsync(client, topics.Notify, payload.ToJsonString(), retain: false, cancellation).ConfigureAwait(false);
            return new ExecutionResult(true, "notification published");
        }
        string id = call.EntityId ?? "";
        var device = registry.Find(id);
        if (device is null)
        {
            return new ExecutionResult(false, $"no such device: {id}");
        }
        var expected = DeviceCommands.Apply(device, DeviceCommands.Service(call.Name), call.Arguments);
        var echoed = new TaskCompletionSource<Device>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(Device d)
        {
            if (d.EntityId == id && (expected is null || d.State == expected.Value.State))
            {
                echoed.TrySetResult(d);
            }
        }
        registry.Changed += OnChanged;
        try
        {
            await MqttConnect.PublishAsync(client, topics.Set(id), DeviceCommands.Payload(call).ToJsonString(), retain: false, cancellation).ConfigureAwait(false);
            var done = await Task.WhenAny(echoed.Task, Task.Delay(_timeout, cancellation)).ConfigureAwait(false);
            return done == echoed.Task
                ? new ExecutionResult(true, $"{id} → {DeviceCommands.Describe(echoed.Task.Result)}")
                : new ExecutionResult(false, $"{id} did not report a new state within {_timeout.TotalSeconds:0.#} s");
        }
        finally
        {
            registry.Changed -= OnChanged;
        }
    }
}
