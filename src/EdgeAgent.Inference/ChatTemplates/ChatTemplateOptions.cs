namespace EdgeAgent.Inference.ChatTemplates;

/// <summary>Variables and resource bounds for <see cref="ChatTemplate.Render"/>.</summary>
public sealed record ChatTemplateOptions
{
    /// <summary>The template's <c>add_generation_prompt</c>: open an assistant turn at the end. Default true.</summary>
    public bool AddGenerationPrompt { get; init; } = true;

    /// <summary>The template's <c>bos_token</c>. Default empty.</summary>
    public string BosToken { get; init; } = "";

    /// <summary>The template's <c>eos_token</c>. Default empty.</summary>
    public string EosToken { get; init; } = "";

    /// <summary>
    /// The template's <c>tools</c>: JSON-like tool schemas (dictionaries, lists, strings, numbers,
    /// bools, null, or <c>System.Text.Json</c> elements/nodes). Null renders as Python <c>None</c>,
    /// as Hugging Face passes it when no tools are given.
    /// </summary>
    public IReadOnlyList<object>? Tools { get; init; }

    /// <summary>
    /// More template variables (e.g. <c>builtin_tools</c>, <c>enable_thinking</c>, <c>date_string</c>),
    /// JSON-like values. They are added after the standard variables and override them on a
    /// name clash.
    /// </summary>
    public IReadOnlyDictionary<string, object?>? ExtraVariables { get; init; }

    /// <summary>The clock for <c>strftime_now</c>; null means <see cref="DateTime.Now"/>.</summary>
    public DateTime? Now { get; init; }

    /// <summary>Largest rendered output, in UTF-16 characters; also bounds any single string or list built while rendering. Default 4 Mi.</summary>
    public int MaxOutputLength { get; init; } = 4 * 1024 * 1024;

    /// <summary>Most loop iterations (all loops together) one render may run. Default 1,000,000.</summary>
    public long MaxLoopIterations { get; init; } = 1_000_000;

    /// <summary>Deepest macro call nesting (recursion included). Default 64.</summary>
    public int MaxCallDepth { get; init; } = 64;
}
