using EdgeAgent.Agents.Dataset;

namespace EdgeAgent.Agents.Tests;

public sealed class ConversationTests
{
    [Fact]
    public void Training_chats_ask_several_things_about_one_home_and_start_like_a_single_request()
    {
        var chats = new DatasetGenerator(TemplateSet.Load("train"), seed: 5).Conversations(20, turns: 4).ToList();
        Assert.Equal(20, chats.Count);
        foreach (var chat in chats)
        {
            Assert.InRange(chat.Count, 1, 4);
            Assert.All(chat, e => Assert.Same(chat[0].Home, e.Home));
            string text = DatasetExample.ChatText(chat);
            string single = chat[0].ChatText();
            // The first turn is exactly the single-request chat; each answer ends with a newline before <|im_end|>.
            Assert.StartsWith(single, text);
            Assert.All(chat, e => Assert.Contains(e.Answer + "\n<|im_end|>", text));
        }
    }
}
