using System.CommandLine;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgeagent run</c>: generate text (placeholder until the tokenizer lands; replaced in the next commit).</summary>
internal static class RunCommand
{
    public static Command Create() => new("run", "Generate text from a prompt.");
}
