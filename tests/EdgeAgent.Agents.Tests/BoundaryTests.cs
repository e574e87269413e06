using System.Text;
using EdgeAgent.Agents.Devices;
using EdgeAgent.Agents.Memory;
using EdgeAgent.Agents.Mqtt;
using EdgeAgent.Agents.Perception;
using EdgeAgent.Agents.Understanding;

namespace EdgeAgent.Agents.Tests;

/// <summary>Hostile or broken input at the boundaries: clear errors or logged, ignored messages.</summary>
public sealed class BoundaryTests
{
    [Theory]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("[1,2]", "\"devices\" array")]
    [InlineData("""{"devices":[{"entity_id":"light.a"},{"entity_id":"light.a"}]}""", "duplicate entity_id 'light.a'")]
    [InlineData("""{"devices":[{"entity_id":"Light A"}]}""", "domain.object_id")]
    [InlineData("""{"devices":[{"name":"x"}]}""", "no entity_id")]
    [InlineData("""{"devices":[{"entity_id":"light.a","attributes":3}]}""", "attributes must be an object")]
    public void Bad_home_files_give_a_clear_error(string json, string message) =>
        Assert.Contains(message, Assert.Throws<HomeFormatException>(() => HomeFile.Parse(json)).Message);

    [Fact]
    public void A_missing_home_file_is_named()
    {
        var e = Assert.Throws<HomeFormatException>(() => HomeFile.Load("/nonexistent/home.json"));
        Assert.Contains("/nonexistent/home.json", e.Message);
    }

    [Fact]
    public void Home_files_round_trip_and_device_text_is_clipped()
    {
        var devices = HomeFile.Parse("""{"devices":[{"entity_id":"light.a","name":"A\nlamp","area":"K","state":3,"attributes":{"brightness":5}}]}""");
        var d = Assert.Single(devices);
        Assert.Equal("Alamp", d.Name);
        Assert.Equal("3", d.State);
        Assert.Equal("light", d.Domain);
        Assert.Equal(HomeFile.Write(devices), HomeFile.Write(HomeFile.Parse(HomeFile.Write(devices))));
    }

    [Theory]
    [InlineData("edgeagent/home/light.kitchen/state", "<html>", "not JSON")]
    [InlineData("edgeagent/home/light.kitchen/state", "[1]", "not an object")]
    [InlineData("edgeagent/home/light.kitchen/state", "{\"state\":{}}", "no string or number")]
    [InlineData("elsewhere/x", "{\"state\":\"on\"}", "not a device state topic")]
    public void Unusable_mqtt_messages_are_logged_and_ignored(string topic, string payload, string why)
    {
        var log = new MemoryLog();
        var source = new MqttPerceptionSource("127.0.0.1", 1, new MqttTopics(), TimeProvider.System, log);
        Assert.Null(source.Parse(topic, Encoding.UTF8.GetBytes(payload)));
        Assert.Contains(why, Assert.Single(log.Lines));
    }

    [Fact]
    public void A_good_mqtt_message_becomes_an_observation()
    {
        var source = new MqttPerceptionSource("127.0.0.1", 1, new MqttTopics(), TimeProvider.System, new MemoryLog());
        var o = source.Parse("edgeagent/home/sensor.t/state", """{"state":21.5,"attributes":{"unit":"°C"}}"""u8);
        Assert.Equal(("sensor.t", "21.5"), (o!.EntityId, o.State));
    }

    [Fact]
    public async Task Empty_commands_are_rejected_and_unknown_devices_ignored()
    {
        var (loop, registry, _) = TestHomes.Agent(new RuleBasedUnderstanding());
        await Assert.ThrowsAsync<ArgumentException>(() => loop.Ask("   "));
        Assert.Throws<ArgumentException>(() => new CommandSource(TimeProvider.System).Submit(""));
        loop.Observe(Observation.StateOf(DateTimeOffset.UtcNow, "mqtt", "light.nowhere", "on", null));
        Assert.False(registry.Contains("light.nowhere"));
    }

    [Fact]
    public async Task Memory_survives_a_restart()
    {
        string path = Path.Combine(Path.GetTempPath(), $"edgeagent-memory-{Guid.NewGuid():N}.db");
        try
        {
            var registry = new DeviceRegistry(DemoHome.Create());
            using (var memory = new AgentMemory(path))
            {
                var loop = new AgentLoop(registry, new RuleBasedUnderstanding(), new Decision.Policy(registry),
                    new Execution.LocalExecutor(registry), memory, TimeProvider.System, new MemoryLog());
                await loop.HandleAsync(Observation.Command(DateTimeOffset.UtcNow, "turn on the kitchen light"), false, default);
                loop.Observe(Observation.StateOf(DateTimeOffset.UtcNow, "mqtt", "sensor.outdoor_temperature", "3.0", null));
            }
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            using (var reopened = new AgentMemory(path))
            {
                var (events, decisions, results) = reopened.Counts();
                Assert.Equal((2L, 1L, 1L), (events, decisions, results));
                var d = Assert.Single(reopened.RecentDecisions(5));
                Assert.Equal(("light.turn_on", "allow", true), (d.Tool, d.Verdict, d.Ok));
                Assert.Equal("sensor.outdoor_temperature", reopened.RecentEvents(1, "state")[0].EntityId);
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var f in new[] { path, path + "-wal", path + "-shm" })
            {
                File.Delete(f);
            }
        }
    }
}
