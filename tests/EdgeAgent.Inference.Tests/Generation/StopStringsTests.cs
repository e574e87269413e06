using EdgeAgent.Inference.Generation;

namespace EdgeAgent.Inference.Tests.Generation;

public class StopStringsTests
{
    [Fact]
    public void FindsTheEarliestStopIncludingOnesThatSpanOldAndNewText()
    {
        var s = new StopStrings(["<|end|>", "\n\n", ""]);
        Assert.Equal(5, s.Find("hello<|end|> more", 8));      // started in already-checked text, ends in new text
        Assert.Equal(2, s.Find("ab\n\ncd<|end|>", 3));
        Assert.Equal(-1, s.Find("nothing here", 0));
        Assert.True(new StopStrings([""]).IsEmpty);
    }

    [Fact]
    public void HoldsBackOnlyWhatCouldStillBecomeAStop()
    {
        var s = new StopStrings(["<|end|>", "STOP"]);
        Assert.Equal(3, s.HeldBack("text <|e"));
        Assert.Equal(2, s.HeldBack("xxST"));
        Assert.Equal(0, s.HeldBack("no prefix at the end"));
        Assert.Equal(0, s.HeldBack(""));
    }
}
