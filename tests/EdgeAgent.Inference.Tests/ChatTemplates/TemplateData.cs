using System.Text.Json;
using EdgeAgent.Inference.ChatTemplates;

namespace EdgeAgent.Inference.Tests.ChatTemplates;

/// <summary>Loads the template test data copied next to the test assembly.</summary>
internal static class TemplateData
{
    private static string Dir => Path.Combine(AppContext.BaseDirectory, "ChatTemplates", "Templates");

    /// <summary>The conversation of llama.cpp's tests/test-chat-template.cpp.</summary>
    public static readonly ChatMessage[] LlamaCppConversation =
    [
        ChatMessage.System("You are a helpful assistant"),
        ChatMessage.User("Hello"),
        ChatMessage.Assistant("Hi there"),
        ChatMessage.User("Who are you"),
        ChatMessage.Assistant("   I am an assistant   "),
        ChatMessage.User("Another question"),
    ];

    public static ChatTemplate Template(string name) => ChatTemplate.Parse(File.ReadAllText(Path.Combine(Dir, name + ".jinja")));

    public static string Golden(string name) => File.ReadAllText(Path.Combine(Dir, "goldens", name + ".txt"));

    /// <summary>
    /// Converts a llama.cpp context file (the keyword arguments its golden script passed to
    /// <c>template.render</c>) into messages and options. Non-string message contents become
    /// <see cref="ChatMessage.ExtraFields"/> so the template sees the JSON value itself.
    /// </summary>
    public static (List<ChatMessage> Messages, ChatTemplateOptions Options) Context(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "contexts", name + ".json")));
        var root = doc.RootElement.Clone();
        var messages = root.GetProperty("messages").EnumerateArray().Select(ToMessage).ToList();
        var extra = new Dictionary<string, object?>();
        IReadOnlyList<object>? tools = null;
        foreach (var p in root.EnumerateObject())
        {
            if (p.Name == "tools")
            {
                tools = p.Value.EnumerateArray().Select(t => (object)t).ToList();
            }
            else if (p.Name is not ("messages" or "add_generation_prompt" or "bos_token" or "eos_token"))
            {
                extra[p.Name] = p.Value;
            }
        }

        var options = new ChatTemplateOptions
        {
            AddGenerationPrompt = root.GetProperty("add_generation_prompt").GetBoolean(),
            BosToken = root.GetProperty("bos_token").GetString()!,
            EosToken = root.GetProperty("eos_token").GetString()!,
            Tools = tools,
            ExtraVariables = extra,
            Now = new DateTime(2024, 7, 26, 12, 0, 0),
        };
        return (messages, options);
    }

    private static ChatMessage ToMessage(JsonElement m)
    {
        var content = m.GetProperty("content");
        var message = new ChatMessage(m.GetProperty("role").GetString()!, content.ValueKind == JsonValueKind.String ? content.GetString() : null);
        if (content.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
        {
            message = message with { ExtraFields = new Dictionary<string, object?> { ["content"] = content } };
        }

        if (m.TryGetProperty("name", out var name))
        {
            message = message with { Name = name.GetString() };
        }

        if (m.TryGetProperty("tool_call_id", out var id))
        {
            message = message with { ToolCallId = id.GetString() };
        }

        if (m.TryGetProperty("tool_calls", out var calls))
        {
            message = message with
            {
                ToolCalls = calls.EnumerateArray().Select(c =>
                {
                    var f = c.GetProperty("function");
                    var args = f.GetProperty("arguments");
                    return new ChatToolCall(f.GetProperty("name").GetString()!, args.ValueKind == JsonValueKind.String ? args.GetString() : args)
                    {
                        Id = c.GetProperty("id").GetString(),
                        Type = c.GetProperty("type").GetString()!,
                    };
                }).ToList(),
            };
        }

        return message;
    }
}
