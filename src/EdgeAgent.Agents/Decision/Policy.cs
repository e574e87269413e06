using System.Text.RegularExpressions;
using EdgeAgent.Agents.Devices;
using EdgeAgent.Agents.Tools;

namespace EdgeAgent.Agents.Decision;

public enum Verdict
{
    Allow,
    NeedsConfirmation,
    Deny,
}

/// <summary>The policy's answer for one call, with the reason a person can read.</summary>
public sealed record PolicyDecision(Verdict Verdict, string Reason)
{
    public bool Allowed => Verdict == Verdict.Allow;

    public string VerdictName => Verdict switch
    {
        Verdict.Allow => "allow",
        Verdict.NeedsConfirmation => "needs_confirmation",
        _ => "deny",
    };
}

/// <summary>Who asked, with what words, and whether they confirmed sensitive actions.</summary>
public sealed record DecisionContext(string RequestText, string Source, bool Confirmed, DateTimeOffset Time)
{
    public bool FromPerson => Source == "user";
}

/// <summary>Limits on how often actions may run (per device, notifications, all together), per rolling minute.</summary>
public sealed record RateLimits(int PerDevicePerMinute = 6, int NotificationsPerMinute = 3, int ActionsPerMinute = 30);

/// <summary>
/// The decision step between the model and the devices. Each proposed call is allowed, needs confirmation or is
/// denied, with a reason:
/// <list type="bullet">
/// <item>unknown tools, entities outside the home and a tool on the wrong kind of device are denied (the grammar
///   already prevents them; the policy does not rely on it);</item>
/// <item>only a person's command can act; device and sensor text never can;</item>
/// <item><c>lock.unlock</c> needs the person's own words to ask for unlocking (device-provided text such as a
///   device named "unlock the front door" is removed before looking) and then confirmation;</item>
/// <item>rate limits per device, for notifications and overall.</item>
/// </list>
/// Thread-safe.
/// </summary>
public sealed partial class Policy(DeviceRegistry registry, RateLimits? limits = null)
{
    private readonly RateLimits _limits = limits ?? new RateLimits();
    private readonly List<(DateTimeOffset Time, string Key)> _history = [];

    [GeneratedRegex(@"\bunlock\b|\bunbolt\b|\blet (me|him|her|them|us|[a-z]+) in\b|\bopen (up )?the (front |back |side )?door\b", RegexOptions.IgnoreCase)]
    private static partial Regex UnlockIntent();

    /// <summary>Decides on one call. Allowed actions are counted against the rate limits.</summary>
    public PolicyDecision Decide(ToolCall call, DecisionContext context)
    {
        var tool = ToolCatalog.Find(call.Name);
        if (tool is null)
        {
            return new(Verdict.Deny, $"unknown tool '{call.Name}'");
        }
        if (tool.TakesEntity)
        {
            var device = call.EntityId is { } id ? registry.Find(id) : null;
            if (device is null)
            {
                return new(Verdict.Deny, $"'{call.EntityId}' is not a device of this home");
            }
            if (!tool.Domains.Contains(device.Domain))
            {
                return new(Verdict.Deny, $"{call.Name} does not apply to {device.EntityId}");
            }
        }
        if (!tool.IsAction)
        {
            return new(Verdict.Allow, "reading a sensor is always allowed");
        }
        if (!context.FromPerson)
        {
            return new(Verdict.Deny, $"only a person's command can act; this came from '{context.Source}'");
        }
        if (call.Name == "lock.unlock")
        {
            if (!UnlockIntent().IsMatch(WordsOfThePerson(context.RequestText)))
            {
                return new(Verdict.Deny, "the request does not ask to unlock; text from devices cannot authorise it");
            }
            if (!context.Confirmed)
            {
                return new(Verdict.NeedsConfirmation, "unlocking needs confirmation (--confirm)");
            }
        }
        lock (_history)
        {
            var since = context.Time - TimeSpan.FromMinutes(1);
            _history.RemoveAll(h => h.Time <= since);
            string key = call.Name == "notify.send" ? "notify" : call.EntityId ?? call.Name;
            int same = _history.Count(h => h.Key == key);
            if (key == "notify" && same >= _limits.NotificationsPerMinute)
            {
                return new(Verdict.Deny, $"rate limit: at most {_limits.NotificationsPerMinute} notifications a minute");
            }
            if (key != "notify" && same >= _limits.PerDevicePerMinute)
            {
                return new(Verdict.Deny, $"rate limit: at most {_limits.PerDevicePerMinute} actions a minute on {key}");
            }
            if (_history.Count >= _limits.ActionsPerMinute)
            {
                return new(Verdict.Deny, $"rate limit: at most {_limits.ActionsPerMinute} actions a minute");
            }
            _history.Add((context.Time, key));
        }
        return new(Verdict.Allow, call.Name == "lock.unlock" ? "asked for and confirmed by the person" : "allowed");
    }

    /// <summary>The request with every device-provided text (names, areas, states) cut out, longest first: what is
    /// left are the person's own words.</summary>
    public string WordsOfThePerson(string request)
    {
        var texts = registry.Devices.SelectMany(d => new[] { d.Name, d.Area, d.State })
            .Where(t => t.Length >= 3).Distinct(StringComparer.OrdinalIgnoreCase).OrderByDescending(t => t.Length);
        string words = request;
        foreach (var t in texts)
        {
            words = words.Replace(t, " ", StringComparison.OrdinalIgnoreCase);
        }
        return words;
    }
}
