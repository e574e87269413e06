using System.Text.Json;
using EdgeAgent.Inference.Gguf;

namespace EdgeAgent.Cli.Commands;

/// <summary>Runs a command body and turns user errors (bad files, bad values) into one line on stderr and exit 1.</summary>
internal static class CliRunner
{
    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false };

    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is UserErrorException or GgufFormatException or FileNotFoundException
            or DirectoryNotFoundException or UnauthorizedAccessException or ArgumentException or InvalidOperationException
            or NotSupportedException or IOException or EdgeAgent.Inference.ChatTemplates.ChatTemplateException)
        {
            string message = e is ArgumentException a && a.ParamName is not null
                ? a.Message.Replace($" (Parameter '{a.ParamName}')", "", StringComparison.Ordinal)
                : e.Message;
            Console.Error.WriteLine($"edgeagent: error: {OneLine(message)}");
            return 1;
        }
    }

    /// <summary>Writes one JSON document on stdout.</summary>
    public static void WriteJson(object value)
    {
        Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));
        Console.Out.Flush();
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");
}
