using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using EdgeAgent.Agents.Decision;
using EdgeAgent.Agents.Devices;
using EdgeAgent.Agents.Execution;
using EdgeAgent.Agents.Memory;
using EdgeAgent.Agents.Perception;
using EdgeAgent.Agents.Tools;
using EdgeAgent.Agents.Understanding;
using EdgeAgent.Inference.Constraints;

namespace EdgeAgent.Agents;

/// <summary>One decided call: the policy's verdict and, when it ran, the result.</summary>
public sealed record DecidedCall(ToolCall Call, PolicyDecision Decision, ExecutionResult? Result);

/// <summary>What the agent did with one command.</summary>
public sealed record AgentTurn(string Request, Proposal Proposal, IReadOnlyList<DecidedCall> Calls, bool Executed, double LatencyMs, string Understanding)
{
    public IEnumerable<DecidedCall> Blocked => Calls.Where(c => !c.Decision.Allowed);
}

/// <summary>
/// Perceive → understand → decide → act → remember. State observations update the registry and memory at once;
/// commands are handled one at a time: the understanding module proposes calls (for a model: under the grammar of
/// the live registry), the <see cref="Policy"/> decides on each, allowed ones go to the <see cref="IExecutor"/>, and
/// everything is written to <see cref="AgentMemory"/>.
/// </summary>
public sealed class AgentLoop(
    DeviceRegistry registry, IUnderstanding understanding, Policy policy, IExecutor executor, AgentMemory memory,
    TimeProvider time, IAgentLog log)
{
    public DeviceRegistry Registry => registry;

    /// <summary>Raised after each command is handled.</summary>
    public event Action<AgentTurn>? TurnCompleted;

    /// <summary>Applies a state observation (unknown devices are logged and ignored).</summary>
    public void Observe(Observation o)
    {
        switch (o.Kind)
        {
            case ObservationKind.StateChanged when o.EntityId is not null && o.State is not null:
                var before = registry.Find(o.EntityId);
                if (before is null)
                {
                    log.Warn($"ignored state of unknown device '{o.EntityId}'");
                    return;
                }
                bool changed = before.State != o.State || (o.Attributes is not null && o.Attributes.Any(a => !JsonNode.DeepEquals(before.Attributes[a.Key], a.Value)));
                registry.Update(o.EntityId, o.State, o.Attributes);
                if (changed)
                {
                    memory.RecordEvent(o.Time, o.Source, "state", o.EntityId, DeviceCommands.Describe(registry.Find(o.EntityId)!));
                }
                break;
            case ObservationKind.Tick:
                memory.RecordEvent(o.Time, o.Source, "tick", null, "");
                break;
        }
    }

    /// <summary>Handles one command: decide, and unless <paramref name="dryRun"/>, execute the allowed calls.</summary>
    /// <exception cref="ArgumentException">The command is empty.</exception>
    public async Task<AgentTurn> HandleAsync(Observation command, bool dryRun, CancellationToken cancellation)
    {
        string text = command.Text?.Trim() ?? "";
        if (text.Length == 0)
        {
            throw new ArgumentException("the command is empty");
        }
        long start = Stopwatch.GetTimestamp();
        memory.RecordEvent(command.Time, command.Source, "command", null, text);
        var recent = memory.RecentEvents(PromptBuilder.MaxRecent, "state");
        var input = new UnderstandingInput(registry.Devices, recent, text);
        var proposal = understanding.Propose(input, cancellation);
        var context = new DecisionContext(text, command.Source, command.Confirmed, time.GetUtcNow());
        var decisions = proposal.Calls.Select(c => (Call: c, Decision: policy.Decide(c, context))).ToList();
        double latency = Stopwatch.GetElapsedTime(start).TotalMilliseconds;

        var done = new List<DecidedCall>();
        bool executed = !dryRun && decisions.Any(d => d.Decision.Allowed);
        foreach (var (call, decision) in decisions)
        {
            long id = memory.RecordDecision(time.GetUtcNow(), text, call.Name, call.Arguments.ToJsonString(JsonText.Options), decision.VerdictName, decision.Reason);
            ExecutionResult? result = null;
            if (decision.Allowed && !dryRun)
            {
                result = await executor.ExecuteAsync(call, cancellation).ConfigureAwait(false);
                memory.RecordResult(id, time.GetUtcNow(), result.Ok, result.Detail);
                executed &= result.Ok;
            }
            done.Add(new DecidedCall(call, decision, result));
        }
        var turn = new AgentTurn(text, proposal, done, executed, latency, understanding.Name);
        TurnCompleted?.Invoke(turn);
        return turn;
    }

    /// <summary>Runs until cancelled: reads every source, applies state observations as they come, handles
    /// commands in order on a second task (so device echoes are seen while a command waits for them).</summary>
    public async Task RunAsync(IEnumerable<IPerceptionSource> sources, bool dryRun, CancellationToken cancellation)
    {
        var observations = Channel.CreateUnbounded<Observation>();
        var commands = Channel.CreateUnbounded<Observation>();
        var tasks = sources.Select(s => Task.Run(async () =>
        {
            try
            {
                await s.RunAsync(observations.Writer, cancellation).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                log.Warn($"perception source '{s.Name}' stopped: {e.Message}");
            }
        }, CancellationToken.None)).ToList();
        var worker = Task.Run(async () =>
        {
            await foreach (var c in commands.Reader.ReadAllAsync(cancellation).ConfigureAwait(false))
            {
                try
                {
                    await HandleAsync(c, dryRun, cancellation).ConfigureAwait(false);
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException)
                {
                    log.Warn($"command '{c.Text}' failed: {e.Message}");
                }
            }
        }, CancellationToken.None);
        try
        {
            await foreach (var o in observations.Reader.ReadAllAsync(cancellation).ConfigureAwait(false))
            {
                if (o.Kind == ObservationKind.Command)
                {
                    commands.Writer.TryWrite(o);
                }
                else
                {
                    Observe(o);
                }
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
        }
        commands.Writer.TryComplete();
        try
        {
            await Task.WhenAll(tasks.Append(worker)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
