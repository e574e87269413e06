namespace EdgeAgent.Inference.ChatTemplates;

/// <summary>
/// A parsed Hugging Face chat template (the Jinja2 source stored in GGUF metadata key
/// <c>tokenizer.chat_template</c>), rendered as <c>transformers</c> renders it: jinja2 with
/// <c>trim_blocks=True</c>, <c>lstrip_blocks=True</c>, the loop-control extension, an immutable
/// sandbox, and the globals <c>raise_exception</c> and <c>strftime_now</c>.
/// </summary>
/// <remarks>
/// Instances are immutable and thread-safe; parse once and render many times. Templates come from
/// untrusted files, so rendering is bounded (see <see cref="ChatTemplateOptions"/>) and fails with
/// <see cref="ChatTemplateException"/> instead of hanging or exhausting the stack.
/// </remarks>
public sealed class ChatTemplate
{
    /// <summary>The ChatML fallback used for models that ship no template.</summary>
    private const string ChatMlSource =
        "{%- for message in messages %}" +
        "{{- '<|im_start|>' ~ message['role'] ~ '\\n' ~ (message['content'] if message['content'] is not none else '') ~ '<|im_end|>\\n' }}" +
        "{%- endfor %}" +
        "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

    private readonly IReadOnlyList<Node> _body;
    private readonly Lexer _lexer;

    private ChatTemplate(string source, IReadOnlyList<Node> body, Lexer lexer)
    {
        Source = source;
        _body = body;
        _lexer = lexer;
    }

    /// <summary>
    /// A built-in ChatML template (<c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c> per message,
    /// then <c>&lt;|im_start|&gt;assistant\n</c> when a generation prompt is requested), for models
    /// whose files carry no chat template.
    /// </summary>
    public static ChatTemplate ChatMl { get; } = Parse(ChatMlSource);

    /// <summary>The template source as given to <see cref="Parse"/>.</summary>
    public string Source { get; }

    /// <summary>Parses template source.</summary>
    /// <param name="source">Jinja2 template text.</param>
    /// <returns>The parsed template.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ChatTemplateException">
    /// The source has a syntax error or uses an unsupported tag (<c>include</c>, <c>extends</c>,
    /// <c>call</c>, ...); <see cref="ChatTemplateException.Line"/> and
    /// <see cref="ChatTemplateException.Column"/> give the position.
    /// </exception>
    public static ChatTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var (body, lexer) = Parser.Parse(source);
        return new ChatTemplate(source, body, lexer);
    }

    /// <summary>
    /// Renders a conversation. The template sees <c>messages</c> (a list of dicts, see
    /// <see cref="ChatMessage"/>), <c>tools</c> (None when not given), <c>documents</c> (None),
    /// <c>add_generation_prompt</c>, <c>bos_token</c>, <c>eos_token</c>, any extra variables, and the
    /// globals <c>raise_exception</c>, <c>strftime_now</c>, <c>range</c>, <c>namespace</c> and <c>dict</c>.
    /// </summary>
    /// <param name="messages">The conversation, oldest first.</param>
    /// <param name="options">Variables and bounds; null uses the defaults.</param>
    /// <returns>The prompt text.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="messages"/> is null.</exception>
    /// <exception cref="ArgumentException">A message, tool or extra variable holds a value that is not JSON-like, or options hold non-positive bounds.</exception>
    /// <exception cref="ChatTemplateException">
    /// The template failed: it called <c>raise_exception</c> (<see cref="ChatTemplateException.RaisedByTemplate"/>
    /// is then true), used an undefined value where one is required, made a type error, or exceeded
    /// a bound.
    /// </exception>
    public string Render(IReadOnlyList<ChatMessage> messages, ChatTemplateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        options ??= new ChatTemplateOptions();
        if (options.MaxOutputLength <= 0 || options.MaxLoopIterations <= 0 || options.MaxCallDepth <= 0)
        {
            throw new ArgumentException("Chat template bounds must be positive.", nameof(options));
        }

        var scope = new Scope(null);
        Globals.AddTo(scope);
        var list = new List<object?>(messages.Count);
        foreach (var m in messages)
        {
            list.Add(ValueConverter.FromMessage(m));
        }

        scope.Set("messages", list);
        scope.Set("tools", options.Tools is null ? null : ValueConverter.FromClr(options.Tools));
        scope.Set("documents", null);
        scope.Set("add_generation_prompt", options.AddGenerationPrompt);
        scope.Set("bos_token", options.BosToken);
        scope.Set("eos_token", options.EosToken);
        if (options.ExtraVariables is not null)
        {
            foreach (var kv in options.ExtraVariables)
            {
                scope.Set(kv.Key, ValueConverter.FromClr(kv.Value));
            }
        }

        // Globals and caller variables live in a parent scope so template-level sets shadow them
        // without touching the caller's values.
        var templateScope = new Scope(scope);
        var renderer = new Renderer(_lexer, options, options.Now ?? DateTime.Now);
        try
        {
            return renderer.Render(_body, templateScope);
        }
        catch (Exception ex) when (ex is InvalidCastException or InvalidOperationException or IndexOutOfRangeException
                                       or ArgumentException or OverflowException or FormatException or KeyNotFoundException)
        {
            // Defensive: a gap in the interpreter must surface as a template error, not a crash.
            throw new ChatTemplateException($"Template rendering failed: {ex.Message}", ex);
        }
    }
}
