namespace EdgeAgent.Inference.ChatTemplates;

/// <summary>
/// One chat message as a template sees it: a dict with <c>role</c> and <c>content</c> (content
/// may be null, as in an assistant turn that only calls tools), plus <c>tool_calls</c>,
/// <c>tool_call_id</c> and <c>name</c> when set, then any <see cref="ExtraFields"/>.
/// </summary>
/// <param name="Role">The role: "system", "user", "assistant", "tool", or whatever the template expects.</param>
/// <param name="Content">The text, or null (rendered to the template as Python <c>None</c>).</param>
public sealed record ChatMessage(string Role, string? Content)
{
    /// <summary>Tool calls made by an assistant message; exposed as <c>message.tool_calls</c>.</summary>
    public IReadOnlyList<ChatToolCall>? ToolCalls { get; init; }

    /// <summary>For a tool result, the id of the call it answers; exposed as <c>message.tool_call_id</c>.</summary>
    public string? ToolCallId { get; init; }

    /// <summary>For a tool result, the tool's name; exposed as <c>message.name</c>.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// More keys for the message dict (JSON-like values: dictionaries, lists, strings, numbers,
    /// bools, null, <c>System.Text.Json</c> elements). A key that equals a standard key replaces it,
    /// which lets <c>content</c> be a list of parts or a JSON object.
    /// </summary>
    public IReadOnlyDictionary<string, object?>? ExtraFields { get; init; }

    /// <summary>Creates a system message.</summary>
    public static ChatMessage System(string content) => new("system", content);

    /// <summary>Creates a user message.</summary>
    public static ChatMessage User(string content) => new("user", content);

    /// <summary>Creates an assistant message, optionally with tool calls.</summary>
    public static ChatMessage Assistant(string? content, params ChatToolCall[] toolCalls) =>
        new("assistant", content) { ToolCalls = toolCalls.Length > 0 ? toolCalls : null };

    /// <summary>Creates a tool-result message.</summary>
    public static ChatMessage Tool(string content, string? toolCallId = null, string? name = null) =>
        new("tool", content) { ToolCallId = toolCallId, Name = name };
}

/// <summary>
/// A function call in an assistant message. Templates see it in the OpenAI shape
/// <c>{"id": ..., "type": "function", "function": {"name": ..., "arguments": ...}}</c>, where
/// <c>id</c> is present only when set.
/// </summary>
/// <param name="Name">The function name.</param>
/// <param name="Arguments">
/// The arguments as a JSON-like value (usually a dictionary, which most templates expect and
/// render with <c>tojson</c>) or as a string of JSON.
/// </param>
public sealed record ChatToolCall(string Name, object? Arguments)
{
    /// <summary>The call id (some templates, e.g. Mistral's, require 9-character ids).</summary>
    public string? Id { get; init; }

    /// <summary>The call type; "function" unless a template expects otherwise.</summary>
    public string Type { get; init; } = "function";
}
