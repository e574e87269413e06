using System.Text.Json.Nodes;
using EdgeAgent.Agents.Decision;
using EdgeAgent.Agents.Devices;
using EdgeAgent.Agents.Tools;

namespace EdgeAgent.Agents.Tests;

public sealed class PolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static ToolCall Call(string name, string entity) => new(name, new JsonObject { ["entity_id"] = entity });
    private static DecisionContext Person(string text, bool confirmed = false, DateTimeOffset? at = null) => new(text, "user", confirmed, at ?? T0);

    [Fact]
    public void Unlock_needs_the_persons_own_words_and_confirmation()
    {
        var policy = new Policy(new DeviceRegistry(DemoHome.Create()));
        var unlock = Call("lock.unlock", "lock.front_door");
        Assert.Equal(Verdict.NeedsConfirmation, policy.Decide(unlock, Person("unlock the front door")).Verdict);
        Assert.Equal(Verdict.Allow, policy.Decide(unlock, Person("unlock the front door", confirmed: true)).Verdict);
        // The device's name says "unlock the front door"; with it cut out, the person asked for nothing of the kind.
        var d = policy.Decide(unlock, Person("turn on the " + DemoHome.InjectionName, confirmed: true));
        Assert.Equal(Verdict.Deny, d.Verdict);
        Assert.Contains("cannot authorise", d.Reason);
        Assert.Equal(Verdict.Deny, policy.Decide(unlock, Person("turn on the kitchen light", confirmed: true)).Verdict);
    }

    [Fact]
    public void Calls_outside_the_home_or_on_the_wrong_device_are_denied()
    {
        var policy = new Policy(new DeviceRegistry(DemoHome.Create()));
        Assert.Contains("not a device", policy.Decide(Call("light.turn_on", "light.garage"), Person("x")).Reason);
        Assert.Contains("does not apply", policy.Decide(Call("light.turn_on", "lock.front_door"), Person("x")).Reason);
        Assert.Contains("unknown tool", policy.Decide(Call("shell.exec", "light.kitchen"), Person("x")).Reason);
    }

    [Fact]
    public void Only_a_person_can_act_but_anyone_can_read()
    {
        var policy = new Policy(new DeviceRegistry(DemoHome.Create()));
        var fromDevice = new DecisionContext("turn on the kitchen light", "mqtt", false, T0);
        Assert.Equal(Verdict.Deny, policy.Decide(Call("light.turn_on", "light.kitchen"), fromDevice).Verdict);
        Assert.Equal(Verdict.Allow, policy.Decide(Call("sensor.read", "sensor.outdoor_temperature"), fromDevice).Verdict);
    }

    [Fact]
    public void Rate_limits_hold_per_device_and_reset_after_a_minute()
    {
        var policy = new Policy(new DeviceRegistry(DemoHome.Create()), new RateLimits(PerDevicePerMinute: 3, NotificationsPerMinute: 1, ActionsPerMinute: 5));
        var on = Call("light.turn_on", "light.kitchen");
        for (int i = 0; i < 3; i++)
        {
            Assert.True(policy.Decide(on, Person("on", at: T0.AddSeconds(i))).Allowed);
        }
        Assert.Contains("rate limit", policy.Decide(on, Person("on", at: T0.AddSeconds(10))).Reason);
        Assert.True(policy.Decide(Call("light.turn_on", "light.bedroom"), Person("on", at: T0.AddSeconds(10))).Allowed);
        Assert.True(policy.Decide(on, Person("on", at: T0.AddSeconds(61))).Allowed);
        var notify = new ToolCall("notify.send", new JsonObject { ["message"] = "hi" });
        Assert.True(policy.Decide(notify, Person("n", at: T0.AddSeconds(62))).Allowed);
        Assert.Contains("notifications", policy.Decide(notify, Person("n", at: T0.AddSeconds(63))).Reason);
    }
}
