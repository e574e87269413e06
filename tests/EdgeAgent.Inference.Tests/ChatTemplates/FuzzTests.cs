using EdgeAgent.Inference.ChatTemplates;

namespace EdgeAgent.Inference.Tests.ChatTemplates;

/// <summary>
/// Templates come from untrusted model files: mutated real templates must either render or fail
/// with <see cref="ChatTemplateException"/>, never with any other exception.
/// </summary>
public class FuzzTests
{
    private static readonly string[] Fragments =
    [
        "{{", "}}", "{%", "%}", "{#", "#}", "{%-", "-%}", "(", ")", "[", "]", "{", "}", "'", "\"", "\\", "-", "|", "~", ".", ",", ":",
        " if ", " else ", " for ", " in ", " endfor ", " endif ", " not ", " is ", " and ", "[::-1]", "[1:]", "|tojson", "|length",
        "0", "-1", "1e999", "none", "loop.", "messages", "ns.x", " set ", " macro ", "()", "**", "//", "%",
    ];

    [Fact]
    public void MutatedRealTemplatesFailOnlyWithChatTemplateException()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "ChatTemplates", "Templates");
        var (toolMessages, toolOptions) = TemplateData.Context("tool_use");
        toolOptions = toolOptions with { MaxLoopIterations = 20_000, MaxOutputLength = 200_000 };
        var plainOptions = new ChatTemplateOptions { MaxLoopIterations = 20_000, MaxOutputLength = 200_000 };
        var random = new Random(20240726);
        int rendered = 0;
        foreach (var file in Directory.GetFiles(dir, "*.jinja").Order(StringComparer.Ordinal))
        {
            string original = File.ReadAllText(file);
            for (int i = 0; i < 150; i++)
            {
                string source = Mutate(original, random);
                try
                {
                    var template = ChatTemplate.Parse(source);
                    template.Render(TemplateData.LlamaCppConversation, plainOptions);
                    template.Render(toolMessages, toolOptions);
                    rendered++;
                }
                catch (ChatTemplateException)
                {
                }
                catch (Exception ex)
                {
                    Assert.Fail($"{Path.GetFileName(file)} mutation {i} threw {ex.GetType().Name}: {ex.Message}\n--- source ---\n{source}");
                }
            }
        }

        // Some mutations land in text or comments and still render; the test must exercise both paths.
        Assert.True(rendered > 0);
    }

    private static string Mutate(string s, Random random)
    {
        int edits = random.Next(1, 4);
        for (int e = 0; e < edits && s.Length > 0; e++)
        {
            int at = random.Next(s.Length);
            int len = Math.Min(random.Next(1, 6), s.Length - at);
            s = random.Next(4) switch
            {
                0 => s.Remove(at, len),
                1 => s.Insert(at, s.Substring(at, len)),
                2 => s.Insert(at, Fragments[random.Next(Fragments.Length)]),
                _ => s.Remove(at, len).Insert(Math.Min(random.Next(s.Length), s.Length - len), s.Substring(at, len)),
            };
        }

        return s;
    }
}
