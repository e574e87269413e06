using System.CommandLine;
using EdgeAgent.Compression.Calibration;
using EdgeAgent.Compression.Model;
using EdgeAgent.Compression.Pruning;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgeagent prune</c>: zero or remove the least important weights of a float model.</summary>
internal static class PruneCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var output = CompressionOptions.Output();
        var method = new Option<string>("--method") { Description = "magnitude | wanda | taylor | neuron | heads | layers.", Required = true };
        method.AcceptOnlyFromAmong("magnitude", "wanda", "taylor", "neuron", "heads", "layers");
        var sparsity = new Option<double>("--sparsity") { Description = "Fraction to prune, 0..1 (of weights, or of neurons/heads/layers).", DefaultValueFactory = _ => 0.5 };
        var pattern = new Option<string?>("--pattern") { Description = "unstructured | 2:4 | structured (default: structured for neuron/heads/layers, else unstructured)." };
        pattern.AcceptOnlyFromAmong("unstructured", "2:4", "structured");
        var calibration = CompressionOptions.Calibration();
        var calibrationTokens = CompressionOptions.CalibrationTokens();
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var cmd = new Command("prune", "Prune a float model: unstructured or 2:4 zeros (magnitude, wanda, taylor), or structured removal of FFN neurons, attention heads or blocks (the model shrinks). Writes F32.")
        {
            model, output, method, sparsity, pattern, calibration, calibrationTokens, threads, json,
        };
        cmd.SetAction(r => CliRunner.Run(() =>
        {
            var options = new PruneOptions(
                Enum.Parse<PruneMethod>(r.GetValue(method)!, ignoreCase: true),
                r.GetValue(sparsity),
                r.GetValue(pattern) switch
                {
                    null => null,
                    "2:4" => PrunePattern.TwoFour,
                    var p => Enum.Parse<PrunePattern>(p, ignoreCase: true),
                });
            string? calibrationPath = r.GetValue(calibration);
            options.Validate(calibrationPath is not null);
            string input = r.GetValue(model)!;
            var tensors = ModelTensors.Load(input);
            CalibrationData? data;
            IImportanceSource? gradients = null;
            if (options.Method == PruneMethod.Taylor)
            {
                // Gradients of the cross-entropy from the training engine, one 128-token window per batch.
                var (tokens, bos) = CompressionOptions.CalibrationTokens(input, calibrationPath!, r.GetValue(calibrationTokens));
                gradients = GradientImportance.Collect(tensors, tokens, bos, context: 128, new TrainingGradientSource(batch: 1, threads: r.GetValue(threads)));
                data = null;
            }
            else
            {
                data = CompressionOptions.Collect(input, tensors, calibrationPath, r.GetValue(calibrationTokens), hessian: false, r.GetValue(threads));
            }
            var result = ModelPruner.Run(tensors, options, data, gradients);
            tensors.ToWriter(_ => GgmlType.F32).Write(r.GetValue(output)!);
            if (r.GetValue(json))
            {
                CliRunner.WriteJson(new { sparsity = result.Sparsity, parameters_before = result.ParametersBefore, parameters_after = result.ParametersAfter });
            }
            else
            {
                Console.Out.WriteLine($"sparsity {result.Sparsity:P2}; parameters {result.ParametersBefore:N0} -> {result.ParametersAfter:N0}");
            }
            return 0;
        }));
        return cmd;
    }
}
