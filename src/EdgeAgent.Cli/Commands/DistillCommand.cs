using System.CommandLine;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgeagent distill</c>: the contract's flags; training needs the training engine, not yet in this build.</summary>
internal static class DistillCommand
{
    public static Command Create()
    {
        var teacher = new Option<string>("--teacher") { Description = "Teacher model.", Required = true };
        var student = new Option<string?>("--student") { Description = "Student model to start from (e.g. a pruned teacher)." };
        var studentLayers = new Option<int?>("--student-layers") { Description = "Fresh student with this many blocks." };
        var studentDim = new Option<int?>("--student-dim") { Description = "Fresh student width." };
        var data = new Option<string>("--data") { Description = "Training text.", Required = true };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps.", Required = true };
        var kl = new Option<string>("--kl") { Description = "forward | reverse.", DefaultValueFactory = _ => "forward" };
        kl.AcceptOnlyFromAmong("forward", "reverse");
        var temperature = new Option<float>("--temperature") { Description = "Softmax temperature of both distributions.", DefaultValueFactory = _ => 2f };
        var output = CompressionOptions.Output();
        var json = CommonOptions.Json();
        var cmd = new Command("distill", "Train a student on the teacher's logits (forward or reverse KL at a temperature). Needs the training engine.")
        {
            teacher, student, studentLayers, studentDim, data, steps, kl, temperature, output, json,
        };
        cmd.SetAction(r => CliRunner.Run(() =>
            throw new UserErrorException("distill needs the training engine (backward pass and optimizer), which this build does not have yet")));
        return cmd;
    }
}
