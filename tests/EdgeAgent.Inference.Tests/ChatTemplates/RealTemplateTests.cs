using System.Text.Json;
using EdgeAgent.Inference.ChatTemplates;

namespace EdgeAgent.Inference.Tests.ChatTemplates;

/// <summary>
/// Real model templates rendered against expected text: llama.cpp's jinja2 goldens, the expected
/// strings of llama.cpp's test-chat-template.cpp, and renderings derived by hand from the template
/// source for the same conversation.
/// </summary>
public class RealTemplateTests
{
    private static readonly ChatMessage[] Conversation = TemplateData.LlamaCppConversation;

    // ---- llama.cpp tests/chat/goldens (rendered by Python jinja2 with trim_blocks/lstrip_blocks) ----

    [Theory]
    [InlineData("Qwen-Qwen2.5-7B-Instruct", "simple", "Qwen-Qwen2.5-7B-Instruct-simple")]
    [InlineData("Qwen-Qwen2.5-7B-Instruct", "tool_use", "Qwen-Qwen2.5-7B-Instruct-tool_use")]
    [InlineData("meta-llama-Llama-3.2-3B-Instruct", "system", "meta-llama-Llama-3.2-3B-Instruct-system")]
    [InlineData("meta-llama-Llama-3.2-3B-Instruct", "tool_use_string_args", "meta-llama-Llama-3.2-3B-Instruct-tool_use")]
    [InlineData("microsoft-Phi-3-mini-4k-instruct", "simple", "microsoft-Phi-3-mini-4k-instruct-simple")]
    [InlineData("microsoft-Phi-3.5-mini-instruct", "system", "microsoft-Phi-3.5-mini-instruct-system")]
    [InlineData("NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use", "tool_use_string_args", "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use-tool_use")]
    public void MatchesJinja2Golden(string template, string context, string golden)
    {
        var (messages, options) = TemplateData.Context(context);
        Assert.Equal(TemplateData.Golden(golden), TemplateData.Template(template).Render(messages, options));
    }

    [Fact]
    public void Llama31FamilyWithBuiltinToolsMatchesJinja2Golden()
    {
        // This golden was rendered from a context whose tool results were JSON values rather than
        // strings ({"stdout": ...}, true, {"title": ...}); pass them the same way.
        var (messages, options) = TemplateData.Context("tool_use");
        messages = messages.Select(m => m.Role == "tool"
            ? m with { ExtraFields = new Dictionary<string, object?> { ["content"] = JsonDocument.Parse(m.Content!).RootElement.Clone() } }
            : m).ToList();
        string actual = TemplateData.Template("meta-llama-Llama-3.3-70B-Instruct").Render(messages, options);
        Assert.Equal(TemplateData.Golden("meta-llama-Meta-Llama-3.1-8B-Instruct-tool_use"), actual);
    }

    // ---- expected strings from llama.cpp tests/test-chat-template.cpp, same conversation ----

    [Theory]
    [InlineData(
        "teknium-OpenHermes-2.5-Mistral-7B", "",
        "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n")]
    [InlineData(
        "mistralai-Mixtral-8x7B-Instruct-v0.1", "</s>",
        " [INST] You are a helpful assistant\n\nHello [/INST] Hi there</s> [INST] Who are you [/INST]    I am an assistant   </s> [INST] Another question [/INST]")]
    [InlineData(
        "mistralai-Mistral-Large-Instruct-2407", "</s>",
        "[INST] Hello[/INST] Hi there</s>[INST] Who are you[/INST] I am an assistant</s>[INST] You are a helpful assistant\n\nAnother question[/INST]")]
    [InlineData(
        "mistralai-Mistral-Nemo-Instruct-2407", "</s>",
        "[INST]Hello[/INST]Hi there</s>[INST]Who are you[/INST]   I am an assistant   </s>[INST]You are a helpful assistant\n\nAnother question[/INST]")]
    [InlineData(
        "deepseek-ai-deepseek-coder-33b-instruct", "",
        "You are a helpful assistant### Instruction:\nHello\n### Response:\nHi there\n<|EOT|>\n### Instruction:\nWho are you\n### Response:\n   I am an assistant   \n<|EOT|>\n### Instruction:\nAnother question\n### Response:\n")]
    public void MatchesLlamaCppExpectedOutput(string template, string eos, string expected)
    {
        var options = new ChatTemplateOptions { EosToken = eos };
        Assert.Equal(expected, TemplateData.Template(template).Render(Conversation, options));
    }

    // ---- the same conversation, expected text derived from each template's source ----

    [Fact]
    public void Qwen25WithoutToolsIsChatMlWithTheGivenSystemPrompt()
    {
        // No tools: the system message is emitted up front and skipped inside the loop.
        const string expected =
            "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n" +
            "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n" +
            "<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n" +
            "<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n";
        Assert.Equal(expected, TemplateData.Template("Qwen-Qwen2.5-7B-Instruct").Render(Conversation));
    }

    [Fact]
    public void Qwen25RendersToolsToolCallsAndGroupedToolResponses()
    {
        var tools = new List<object>
        {
            new Dictionary<string, object?>
            {
                ["type"] = "function",
                ["function"] = new Dictionary<string, object?>
                {
                    ["name"] = "get_weather",
                    ["description"] = "Get the weather",
                    ["parameters"] = new Dictionary<string, object?>
                    {
                        ["type"] = "object",
                        ["properties"] = new Dictionary<string, object?> { ["city"] = new Dictionary<string, object?> { ["type"] = "string" } },
                        ["required"] = new[] { "city" },
                    },
                },
            },
        };
        ChatMessage[] messages =
        [
            ChatMessage.System("You are a bot."),
            ChatMessage.User("Weather in Paris and London?"),
            ChatMessage.Assistant(
                null,
                new ChatToolCall("get_weather", new Dictionary<string, object?> { ["city"] = "Paris" }) { Id = "call_1" },
                new ChatToolCall("get_weather", new Dictionary<string, object?> { ["city"] = "London" }) { Id = "call_2" }),
            ChatMessage.Tool("{\"temp\": 21}", "call_1", "get_weather"),
            ChatMessage.Tool("{\"temp\": 17}", "call_2", "get_weather"),
            ChatMessage.Assistant("Paris 21, London 17."),
            ChatMessage.User("Thanks!"),
        ];

        // The tools branch appends the tool block to the given system prompt; tool calls become
        // <tool_call> JSON lines; consecutive tool results share one user turn.
        const string expected =
            "<|im_start|>system\nYou are a bot.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
            "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n" +
            "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get the weather\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}}\n" +
            "</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n" +
            "<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" +
            "<|im_start|>user\nWeather in Paris and London?<|im_end|>\n" +
            "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n" +
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"London\"}}\n</tool_call><|im_end|>\n" +
            "<|im_start|>user\n<tool_response>\n{\"temp\": 21}\n</tool_response>\n<tool_response>\n{\"temp\": 17}\n</tool_response><|im_end|>\n" +
            "<|im_start|>assistant\nParis 21, London 17.<|im_end|>\n" +
            "<|im_start|>user\nThanks!<|im_end|>\n<|im_start|>assistant\n";
        string actual = TemplateData.Template("Qwen-Qwen2.5-7B-Instruct").Render(messages, new ChatTemplateOptions { Tools = tools });
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Qwen3DropsPastReasoningAndHonoursEnableThinking()
    {
        var template = TemplateData.Template("Qwen-Qwen3-0.6B");
        ChatMessage[] history =
        [
            ChatMessage.System("You are a helpful assistant"),
            ChatMessage.User("Hello"),
            ChatMessage.Assistant("<think>\nplanning\n</think>\n\nHi there"),
            ChatMessage.User("Who are you"),
        ];

        // The assistant turn precedes the last user query, so only the text after </think> is kept.
        var noThinking = new ChatTemplateOptions { ExtraVariables = new Dictionary<string, object?> { ["enable_thinking"] = false } };
        Assert.Equal(
            "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n" +
            "<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
            template.Render(history, noThinking));

        // An assistant turn after the last query keeps its reasoning, re-wrapped in <think> tags.
        Assert.Equal(
            "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\nr\n</think>\n\nA<|im_end|>\n",
            template.Render([ChatMessage.User("Q"), ChatMessage.Assistant("<think>r</think>A")], new ChatTemplateOptions { AddGenerationPrompt = false }));
    }

    [Fact]
    public void Llama32UsesStrftimeNowForTheDateAndTrimsContent()
    {
        const string expected =
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 05 Mar 2025\n\n" +
            "You are a helpful assistant<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
        var options = new ChatTemplateOptions { BosToken = "<|begin_of_text|>", Now = new DateTime(2025, 3, 5, 8, 30, 0) };
        Assert.Equal(expected, TemplateData.Template("meta-llama-Llama-3.2-3B-Instruct").Render(Conversation, options));
    }

    [Fact]
    public void Llama33WithoutToolsUsesItsFixedDate()
    {
        const string expected =
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n" +
            "You are a helpful assistant<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
        var options = new ChatTemplateOptions { BosToken = "<|begin_of_text|>" };
        Assert.Equal(expected, TemplateData.Template("meta-llama-Llama-3.3-70B-Instruct").Render(Conversation, options));
    }

    [Fact]
    public void Llama2FoldsTheSystemPromptIntoTheFirstInstruction()
    {
        // content.strip() trims the assistant turn; bos precedes every [INST]; no generation prompt.
        const string expected =
            "<s>[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST] Hi there </s>" +
            "<s>[INST] Who are you [/INST] I am an assistant </s><s>[INST] Another question [/INST]";
        var options = new ChatTemplateOptions { BosToken = "<s>", EosToken = "</s>" };
        Assert.Equal(expected, TemplateData.Template("meta-llama-Llama-2-7b-chat-hf").Render(Conversation, options));
    }

    [Fact]
    public void SmolLM2InsertsItsDefaultSystemPromptOnlyWhenNoneIsGiven()
    {
        var template = TemplateData.Template("HuggingFaceTB-SmolLM2-Instruct");
        Assert.Equal(
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
            template.Render([ChatMessage.User("Hello")]));
        Assert.Equal(
            "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n" +
            "<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n",
            template.Render(Conversation));
    }

    [Fact]
    public void TinyLlamaZephyrFormatKeepsNewlinesAfterOutputsButTrimsThemAfterBlocks()
    {
        // trim_blocks drops the newline after each {% ... %}; the one after each {{ ... }} stays.
        const string expected =
            "<|system|>\nYou are a helpful assistant</s>\n<|user|>\nHello</s>\n<|assistant|>\nHi there</s>\n" +
            "<|user|>\nWho are you</s>\n<|assistant|>\n   I am an assistant   </s>\n<|user|>\nAnother question</s>\n<|assistant|>\n";
        var options = new ChatTemplateOptions { EosToken = "</s>" };
        Assert.Equal(expected, TemplateData.Template("TinyLlama-TinyLlama-1.1B-Chat-v1.0").Render(Conversation, options));
    }

    [Fact]
    public void Phi3MiniRendersEveryRole()
    {
        const string expected =
            "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n" +
            "<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n<|assistant|>\n";
        Assert.Equal(expected, TemplateData.Template("microsoft-Phi-3-mini-4k-instruct").Render(Conversation));
    }

    [Fact]
    public void Phi3MiniEndsWithEosWithoutGenerationPrompt()
    {
        var options = new ChatTemplateOptions { AddGenerationPrompt = false, EosToken = "<|endoftext|>" };
        Assert.Equal("<|user|>\nHi<|end|>\n<|endoftext|>", TemplateData.Template("microsoft-Phi-3-mini-4k-instruct").Render([ChatMessage.User("Hi")], options));
    }

    [Fact]
    public void GemmaMapsAssistantToModelAndTrimsContent()
    {
        const string expected =
            "<bos><start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\nHi there<end_of_turn>\n" +
            "<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an assistant<end_of_turn>\n" +
            "<start_of_turn>user\nAnother question<end_of_turn>\n<start_of_turn>model\n";
        var options = new ChatTemplateOptions { BosToken = "<bos>" };
        Assert.Equal(expected, TemplateData.Template("google-gemma-7b-it").Render(Conversation.Skip(1).ToList(), options));
    }

    [Fact]
    public void GemmaRejectsASystemMessageThroughRaiseException()
    {
        var ex = Assert.Throws<ChatTemplateException>(() => TemplateData.Template("google-gemma-7b-it").Render(Conversation));
        Assert.True(ex.RaisedByTemplate);
        Assert.Equal("System role not supported", ex.Reason);
    }

    [Fact]
    public void Llama2RejectsRolesThatDoNotAlternate()
    {
        var ex = Assert.Throws<ChatTemplateException>(() =>
            TemplateData.Template("meta-llama-Llama-2-7b-chat-hf").Render([ChatMessage.User("a"), ChatMessage.User("b")]));
        Assert.True(ex.RaisedByTemplate);
        Assert.Equal("Conversation roles must alternate user/assistant/user/assistant/...", ex.Reason);
        Assert.Equal(1, ex.Line);
    }

    [Fact]
    public void MistralNemoRejectsToolCallIdsThatAreNotNineCharacters()
    {
        ChatMessage[] messages =
        [
            ChatMessage.User("hi"),
            ChatMessage.Assistant(null, new ChatToolCall("f", new Dictionary<string, object?>()) { Id = "call_1" }),
        ];
        var ex = Assert.Throws<ChatTemplateException>(() => TemplateData.Template("mistralai-Mistral-Nemo-Instruct-2407").Render(messages));
        Assert.Equal("Tool call IDs should be alphanumeric strings with length 9!", ex.Reason);
    }

    [Fact]
    public void MistralNemoRendersAvailableToolsBeforeTheLastUserTurnAndToolCalls()
    {
        var tools = new List<object>
        {
            new Dictionary<string, object?>
            {
                ["type"] = "function",
                ["function"] = new Dictionary<string, object?> { ["name"] = "f", ["description"] = "Does f", ["parameters"] = new Dictionary<string, object?>() },
            },
        };
        ChatMessage[] messages =
        [
            ChatMessage.User("first"),
            ChatMessage.Assistant(null, new ChatToolCall("f", new Dictionary<string, object?> { ["x"] = 1 }) { Id = "abcdefghi" }),
            ChatMessage.Tool("42", "abcdefghi"),
            ChatMessage.Assistant("done"),
            ChatMessage.User("second"),
        ];

        // tojson of the function dict is {"name": "f", "arguments": {"x": 1}}; out[:-1] drops its '}'.
        const string expected =
            "<s>[INST]first[/INST][TOOL_CALLS][{\"name\": \"f\", \"arguments\": {\"x\": 1}, \"id\": \"abcdefghi\"}]</s>" +
            "[TOOL_RESULTS]{\"content\": 42, \"call_id\": \"abcdefghi\"}[/TOOL_RESULTS]done</s>" +
            "[AVAILABLE_TOOLS][{\"type\": \"function\", \"function\": {\"name\": \"f\", \"description\": \"Does f\", \"parameters\": {}}}][/AVAILABLE_TOOLS]" +
            "[INST]second[/INST]";
        var options = new ChatTemplateOptions { BosToken = "<s>", EosToken = "</s>", Tools = tools };
        Assert.Equal(expected, TemplateData.Template("mistralai-Mistral-Nemo-Instruct-2407").Render(messages, options));
    }

    [Fact]
    public void BuiltInChatMlFallback()
    {
        Assert.Equal(
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n<|im_end|>\n<|im_start|>assistant\n",
            ChatTemplate.ChatMl.Render([ChatMessage.System("S"), ChatMessage.User("U"), ChatMessage.Assistant(null)]));
        Assert.Equal(
            "<|im_start|>user\nU<|im_end|>\n",
            ChatTemplate.ChatMl.Render([ChatMessage.User("U")], new ChatTemplateOptions { AddGenerationPrompt = false }));
    }

    [Fact]
    public void TheOldMistralTemplateRejectsASystemMessage()
    {
        // mistralai/Mistral-7B-Instruct-v0.2's original template, from llama.cpp's test file.
        const string source = "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}";
        var template = ChatTemplate.Parse(source);
        var ex = Assert.Throws<ChatTemplateException>(() => template.Render(Conversation));
        Assert.True(ex.RaisedByTemplate);
        Assert.Equal(
            "<s>[INST] Hello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   </s>[INST] Another question [/INST]",
            template.Render(Conversation.Skip(1).ToList(), new ChatTemplateOptions { BosToken = "<s>", EosToken = "</s>" }));
    }
}
