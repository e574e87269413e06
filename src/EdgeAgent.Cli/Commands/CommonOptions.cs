using System.CommandLine;
using System.CommandLine.Parsing;

namespace EdgeAgent.Cli.Commands;

/// <summary>Options shared by several commands, with the contract's names and defaults.</summary>
internal static class CommonOptions
{
    public static Option<string> Model() => new("--model", "-m")
    {
        Description = "Model file: GGUF (v2/v3) or a llama2.c checkpoint (.bin).",
        Required = true,
    };

    public static Option<int> Threads() => new("--threads")
    {
        Description = "Compute threads (default: the number of cores).",
        DefaultValueFactory = _ => Environment.ProcessorCount,
        Validators = { r => Positive(r, "--threads") },
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print exactly one JSON object on stdout (human text goes to stderr).",
    };

    public static Option<string?> PromptIds() => new("--prompt-ids")
    {
        Description = "Comma-separated token ids fed exactly as given (no BOS added), e.g. 1,2,3.",
    };

    public static void Positive(OptionResult r, string name)
    {
        if (r.GetValueOrDefault<int>() < 1)
        {
            r.AddError($"{name} must be at least 1");
        }
    }

    /// <summary>Parses "1,2,3" into ids; throws <see cref="UserErrorException"/> on bad text.</summary>
    public static int[] ParseIds(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            throw new UserErrorException("--prompt-ids is empty");
        }
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ids[i]))
            {
                throw new UserErrorException($"--prompt-ids: '{parts[i]}' is not a token id");
            }
        }
        return ids;
    }

    /// <summary>Reads a UTF-8 text file, with one-line errors for a missing or unreadable file.</summary>
    public static string ReadText(string path)
    {
        if (!File.Exists(path))
        {
            throw new UserErrorException($"file not found: {path}");
        }
        return File.ReadAllText(path, System.Text.Encoding.UTF8);
    }
}
