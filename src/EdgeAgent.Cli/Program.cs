using System.CommandLine;
using EdgeAgent.Cli.Commands;

namespace EdgeAgent.Cli;

/// <summary>The <c>edgeagent</c> command: parses flags and calls the libraries (docs/cli.md is the contract).</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("EdgeAgent: run, measure and compress LLMs on edge devices, in pure .NET.")
        {
            RunCommand.Create(),
            LogitsCommand.Create(),
            TokenizeCommand.Create(),
            BenchCommand.Create(),
            PerplexityCommand.Create(),
            InfoCommand.Create(),
            AgentCommands.Create(),
            DemoCommand.Create(),
            QuantizeCommand.Create(),
            PruneCommand.Create(),
            DistillCommand.Create(),
            EvalCommand.Create(),
            TokenizerTrainCommand.Create(),
            TrainCommand.Create(),
            AverageCommand.Create(),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // One line per problem on stderr, exit 1; the full help is one --help away.
            foreach (var error in parsed.Errors)
            {
                Console.Error.WriteLine($"edgeagent: error: {error.Message}");
            }
            Console.Error.WriteLine("run 'edgeagent --help' or 'edgeagent COMMAND --help' for usage");
            return 1;
        }
        return parsed.Invoke();
    }
}
