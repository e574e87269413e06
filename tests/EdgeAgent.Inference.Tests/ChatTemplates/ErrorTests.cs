using EdgeAgent.Inference.ChatTemplates;

namespace EdgeAgent.Inference.Tests.ChatTemplates;

/// <summary>Syntax errors with positions, runtime errors, and the bounds that protect against hostile templates.</summary>
public class ErrorTests
{
    private static ChatTemplateException ParseError(string source) =>
        Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(source));

    private static ChatTemplateException RenderError(string source, ChatTemplateOptions? options = null) =>
        Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(source).Render([ChatMessage.User("hi")], options));

    [Theory]
    [InlineData("Hello\n{{ foo( }}", 2, 9, "unexpected '}'")]
    [InlineData("{% for x in y %}\n{{ x }}", 2, 8, "'endfor'")]
    [InlineData("ok\n  {% if x %}a{% endfor %}", 2, 17, "endfor")]
    [InlineData("{{ 'abc }}", 1, 4, "string")]
    [InlineData("{% frobnicate %}", 1, 4, "unknown tag 'frobnicate'")]
    [InlineData("{% include 'other.jinja' %}", 1, 4, "not supported")]
    [InlineData("{{ 1 + }}", 1, 8, "Unexpected")]
    [InlineData("{# never closed", 1, 1, "comment")]
    [InlineData("{% break %}", 1, 4, "outside of a loop")]
    [InlineData("{% set 1 = 2 %}", 1, 8, "assignment target")]
    public void SyntaxErrorsReportLineAndColumn(string source, int line, int column, string fragment)
    {
        var ex = ParseError(source);
        Assert.Contains(fragment, ex.Reason, StringComparison.Ordinal);
        Assert.Equal((line, column), (ex.Line, ex.Column));
        Assert.Contains($"line {line}, column {column}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RaiseExceptionCarriesTheTemplatesMessageAndPosition()
    {
        var ex = RenderError("line one\n{% if messages|length < 2 %}{{ raise_exception('Need two messages!') }}{% endif %}");
        Assert.True(ex.RaisedByTemplate);
        Assert.Equal("Need two messages!", ex.Reason);
        Assert.Equal(2, ex.Line);
    }

    [Theory]
    [InlineData("{{ missing.attribute }}", "'missing' is undefined")]
    [InlineData("{{ messages[3].content }}", "index out of range")]
    [InlineData("{{ 'a' + 1 }}", "can only concatenate str")]
    [InlineData("{{ 'a' + none }}", "can only concatenate str")]
    [InlineData("{{ 1 < 'a' }}", "'<' not supported")]
    [InlineData("{{ 1 // 0 }}", "ZeroDivisionError")]
    [InlineData("{{ x|nosuchfilter }}", "No filter named 'nosuchfilter'")]
    [InlineData("{{ x is nosuchtest }}", "No test named 'nosuchtest'")]
    [InlineData("{{ none() }}", "not callable")]
    [InlineData("{% set l = [1] %}{{ l.append(2) }}", "unsafe")]
    [InlineData("{% set d = {} %}{{ d.update({'a': 1}) }}", "unsafe")]
    [InlineData("{% set x = 5 %}{% set x.y = 1 %}", "non-namespace")]
    [InlineData("{% for a, b in [1] %}{% endfor %}", "not iterable")]
    [InlineData("{{ undefined_thing|tojson }}", "not JSON serializable")]
    [InlineData("{{ '%s %s' % ('a',) }}", "not enough arguments")]
    [InlineData("{{ '%d' % 'a' }}", "real number is required")]
    [InlineData("{{ messages[0].content.strip.x.y }}", "has no attribute")]
    public void RuntimeErrorsAreChatTemplateExceptions(string source, string fragment)
    {
        var ex = RenderError(source);
        Assert.Contains(fragment, ex.Reason, StringComparison.Ordinal);
        Assert.False(ex.RaisedByTemplate);
        Assert.Equal(1, ex.Line);
    }

    [Fact]
    public void RunawayNestedLoopsHitTheIterationBound()
    {
        var ex = RenderError("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}");
        Assert.Contains("loop iterations", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void HugeRangeIsRefusedBeforeItIsBuilt()
    {
        var ex = RenderError("{{ range(10000000000)|length }}");
        Assert.Contains("range()", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void OutputIsBounded()
    {
        var ex = RenderError("{% for i in range(1000) %}0123456789{% endfor %}", new ChatTemplateOptions { MaxOutputLength = 5000 });
        Assert.Contains("5000", ex.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}")]
    [InlineData("{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s + ns.s %}{% endfor %}")]
    [InlineData("{{ 'x' * 100000000000 }}")]
    [InlineData("{% set ns = namespace(l=[1]) %}{% for i in range(100) %}{% set ns.l = ns.l + ns.l %}{% endfor %}")]
    public void ExponentialGrowthOfIntermediateValuesIsBounded(string source)
    {
        var ex = RenderError(source);
        Assert.Contains("limit", ex.Reason + ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void QuadraticStringBuildingExhaustsTheWorkBudget()
    {
        // Each step copies the whole accumulated string; without a work budget this would run for minutes.
        var options = new ChatTemplateOptions { MaxOutputLength = 100_000 };
        var ex = RenderError("{% set ns = namespace(s='') %}{% for i in range(100000) %}{% set ns.s = ns.s ~ 'xxxxxxxxxx' %}{% endfor %}", options);
        Assert.Contains("work budget", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void InfiniteMacroRecursionHitsTheCallDepthBound()
    {
        var ex = RenderError("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
        Assert.Contains("nested deeper than 64", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void DeeplyNestedSourceIsRejectedWithoutOverflowingTheStack()
    {
        var ex = ParseError("{{ " + new string('(', 100_000) + "1" + new string(')', 100_000) + " }}");
        Assert.Contains("too deep", ex.Reason, StringComparison.Ordinal);
        ex = ParseError(string.Concat(Enumerable.Repeat("{% if true %}", 10_000)));
        Assert.Contains("too deep", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void DeeplyNestedValuesFailCleanly()
    {
        // 100k nested lists: serialising or printing them must not overflow the stack.
        const string build = "{% set ns = namespace(x=[]) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor %}";
        Assert.Contains("too deep", RenderError(build + "{{ ns.x|tojson }}").Reason, StringComparison.Ordinal);
        Assert.Contains("too deep", RenderError(build + "{{ ns.x }}").Reason, StringComparison.Ordinal);
        Assert.Contains("too deep", RenderError(build + "{{ ns.x == [ns.x] }}").Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void CallerValuesThatAreNotJsonLikeAreArgumentErrors()
    {
        var template = ChatTemplate.Parse("{{ x }}");
        Assert.Throws<ArgumentException>(() => template.Render([], new ChatTemplateOptions { ExtraVariables = new Dictionary<string, object?> { ["x"] = new object() } }));
        Assert.Throws<ArgumentNullException>(() => template.Render(null!));
        Assert.Throws<ArgumentNullException>(() => ChatTemplate.Parse(null!));
    }
}
