using System.Net;
using System.Net.Sockets;
using MQTTnet;
using MQTTnet.Server;

namespace EdgeAgent.Agents.Mqtt;

/// <summary>An MQTT broker (MQTTnet.Server) on the loopback interface, for the demo and tests.</summary>
public sealed class EmbeddedBroker : IAsyncDisposable
{
    private readonly MqttServer _server;

    private EmbeddedBroker(MqttServer server, int port)
    {
        _server = server;
        Port = port;
    }

    public int Port { get; }

    public string Host => "127.0.0.1";

    /// <summary>Starts a broker on 127.0.0.1 at <paramref name="port"/> (0: a free port; if another process takes
    /// the probed port before the broker binds it, another one is probed).</summary>
    public static async Task<EmbeddedBroker> StartAsync(int port = 0)
    {
        for (int attempt = 1; ; attempt++)
        {
            int bound = port == 0 ? FreePort() : port;
            var factory = new MqttServerFactory();
            var options = factory.CreateServerOptionsBuilder()
                .WithDefaultEndpoint()
                .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
                .WithDefaultEndpointBoundIPV6Address(IPAddress.None)
                .WithDefaultEndpointPort(bound)
                .Build();
            var server = factory.CreateMqttServer(options);
            try
            {
                await server.StartAsync().ConfigureAwait(false);
                return new EmbeddedBroker(server, bound);
            }
            catch (SocketException) when (port == 0 && attempt < 5)
            {
                server.Dispose();
            }
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync().ConfigureAwait(false);
        _server.Dispose();
    }
}

/// <summary>Connects MQTTnet clients to a broker.</summary>
public static class MqttConnect
{
    public static async Task<IMqttClient> ClientAsync(string host, int port, string clientId, CancellationToken cancellation)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(host, port)
            .WithClientId(clientId)
            .WithTimeout(TimeSpan.FromSeconds(5))
            .Build();
        await client.ConnectAsync(options, cancellation).ConfigureAwait(false);
        return client;
    }

    public static Task SubscribeAsync(IMqttClient client, string filter, CancellationToken cancellation) =>
        client.SubscribeAsync(new MqttClientFactory().CreateSubscribeOptionsBuilder().WithTopicFilter(filter).Build(), cancellation);

    public static Task PublishAsync(IMqttClient client, string topic, string payload, bool retain, CancellationToken cancellation) =>
        client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithRetainFlag(retain).Build(), cancellation);
}
