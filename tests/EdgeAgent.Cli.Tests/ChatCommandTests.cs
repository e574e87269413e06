using System.Text.Json;
using EdgeAgent.Inference.ChatTemplates;
using EdgeAgent.Inference.Gguf;
using EdgeAgent.Inference.Model;
using EdgeAgent.Inference.Tokenizers;

namespace EdgeAgent.Cli.Tests;

public sealed class ChatCommandTests : IDisposable
{
    private const string Template =
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}" +
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

    private readonly string _path = Path.Combine(Path.GetTempPath(), $"chat-{Guid.NewGuid():N}.gguf");

    public ChatCommandTests()
    {
        var w = RandomModel.Create(new RandomModelShape("llama", Dim: 64, Layers: 1, Heads: 2, KvHeads: 1, FfnDim: 128, VocabSize: 300), seed: 3);
        w.Set("tokenizer.chat_template", Template);
        w.Write(_path);
    }

    [Fact]
    public void ChatRendersTheModelsTemplateWithTheSystemMessage()
    {
        var r = CliProcess.Run("run", "-m", _path, "--chat", "--system", "Be brief.", "-p", "Hello", "-n", "3", "--temperature", "0", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);

        string rendered = ChatTemplate.Parse(Template).Render([new ChatMessage("system", "Be brief."), new ChatMessage("user", "Hello")]);
        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n", rendered);
        using var file = GgufFile.Open(_path);
        int expectedTokens = Tokenizer.FromGguf(file.Metadata).Encode(rendered, addSpecial: false, parseSpecial: true).Length;
        Assert.Equal(expectedTokens, doc.RootElement.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(3, doc.RootElement.GetProperty("generated_tokens").GetInt32());
    }

    [Fact]
    public void ChatWithPromptIdsIsAUserError()
    {
        var r = CliProcess.Run("run", "-m", _path, "--chat", "--prompt-ids", "1,2");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("edgeagent: error: ", r.Stderr);
    }

    public void Dispose() => File.Delete(_path);
}
