using System.CommandLine;
using System.Globalization;
using EdgeAgent.Training.Model;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgeagent average</c>: the weighted average of models fine-tuned from one parent, written as an F32 GGUF.</summary>
internal static class AverageCommand
{
    public static Command Create()
    {
        var models = new Option<string[]>("--model", "-m")
        {
            Description = "A llama GGUF to average (repeat: at least two, all of one shape and one tokenizer).",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var weights = new Option<string?>("--weights")
        {
            Description = "Comma-separated non-negative weights, one per --model, in their order (normalized to sum 1). Default: equal.",
        };
        var output = new Option<string>("--output", "-o") { Description = "GGUF to write (F32; the first model's tokenizer and chat template).", Required = true };
        var json = CommonOptions.Json();
        var cmd = new Command("average",
            "Average the parameters of models fine-tuned from one parent (a \"model soup\"): every weight becomes Σ wᵢ·pᵢ / Σ wᵢ. "
            + "Models trained from different starting points do not average meaningfully.")
        {
            models, weights, output, json,
        };
        cmd.SetAction(r => CliRunner.Run(() =>
        {
            var paths = r.GetValue(models)!;
            if (paths.Length < 2)
            {
                throw new UserErrorException("give at least two --model files to average");
            }
            var w = ParseWeights(r.GetValue(weights), paths.Length);
            var (shape, parameters, vocab) = ModelAverage.Average(paths, w);
            var outPath = r.GetValue(output)!;
            ModelFile.Write(outPath, new ParameterLayout(shape), parameters, vocab, "edgeagent-average");
            double total = w.Sum();
            var normalized = w.Select(x => x / total).ToArray();
            if (r.GetValue(json))
            {
                CliRunner.WriteJson(new { output = outPath, models = paths, weights = normalized, parameters = parameters.Length });
            }
            else
            {
                var parts = paths.Select((p, i) => $"{normalized[i].ToString("0.###", CultureInfo.InvariantCulture)} × {Path.GetFileName(p)}");
                Console.Out.WriteLine($"wrote {outPath}: {string.Join(" + ", parts)} ({parameters.Length:N0} parameters)");
            }
            return 0;
        }));
        return cmd;
    }

    private static double[] ParseWeights(string? text, int count)
    {
        if (text is null)
        {
            return Enumerable.Repeat(1.0, count).ToArray();
        }
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != count)
        {
            throw new UserErrorException($"--weights has {parts.Length} value(s) for {count} --model file(s)");
        }
        var w = new double[count];
        for (int i = 0; i < count; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out w[i]) || !double.IsFinite(w[i]) || w[i] < 0)
            {
                throw new UserErrorException($"--weights: '{parts[i]}' is not a non-negative number");
            }
        }
        if (w.Sum() <= 0)
        {
            throw new UserErrorException("--weights sum to 0");
        }
        return w;
    }
}
