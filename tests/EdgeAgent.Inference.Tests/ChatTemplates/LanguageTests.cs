using EdgeAgent.Inference.ChatTemplates;

namespace EdgeAgent.Inference.Tests.ChatTemplates;

/// <summary>
/// Language features one at a time. Each expected string is what Python jinja2 renders with
/// trim_blocks=True and lstrip_blocks=True (Hugging Face's environment).
/// </summary>
public class LanguageTests
{
    private static string Render(string source, ChatTemplateOptions? options = null) =>
        ChatTemplate.Parse(source).Render([], options);

    [Theory]
    [InlineData("  {% if true %}\n    yes\n  {% endif %}\n", "    yes\n")]
    [InlineData("  {%+ if true %}x{% endif %}", "  x")]
    [InlineData("a  {{- 'b' -}}  \n c", "abc")]
    [InlineData("{% if true +%}\nx{% endif %}", "\nx")]
    [InlineData("{% if true -%}  \n\n  x  {%- endif %}|", "x|")]
    [InlineData("a {# note #}\nb", "a b")]
    [InlineData("line\n    {# indented comment #}\nnext", "line\nnext")]
    [InlineData("{{ 'x' }}\n{{ 'y' }}", "x\ny")]
    [InlineData("a\r\nb\rc\n", "a\nb\nc")]
    [InlineData("x\n\n", "x\n")]
    [InlineData("{% raw %}{{ not parsed }}{% endraw %}", "{{ not parsed }}")]
    [InlineData("{% generation %}kept{% endgeneration %}", "kept")]
    public void WhitespaceControl(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{% for x in ['a','b','c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}|{% endfor %}",
        "10TrueFalse33|21FalseFalse32|32FalseTrue31|")]
    [InlineData("{% for x in [] %}x{% else %}empty{% endfor %}", "empty")]
    [InlineData("{% for x in range(10) if x is odd %}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}", "1,3,5,7,9")]
    [InlineData("{% set x = 1 %}{% for i in range(3) %}{% set x = x + 1 %}{{ x }}{% endfor %}{{ x }}", "2221")]
    [InlineData("{% set ns = namespace(c=0) %}{% for i in range(4) %}{% set ns.c = ns.c + i %}{% endfor %}{{ ns.c }}", "6")]
    [InlineData("{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}", "0134")]
    [InlineData("{% for k, v in {'x': 1, 'y': 2}|items %}{{ k }}={{ v }};{% endfor %}", "x=1;y=2;")]
    [InlineData("{% for k in {'x': 1, 'y': 2} %}{{ k }}{% endfor %}", "xy")]
    [InlineData("{% for c in 'abc' %}{{ c }}.{% endfor %}", "a.b.c.")]
    [InlineData("{% for x in [1, 2, 3] %}{{ loop.previtem is defined }}{{ loop.nextitem|default('-') }}{% endfor %}", "False2True3True-")]
    [InlineData("{% for x in [1, 2, 3] %}{{ loop.cycle('a', 'b') }}{% endfor %}", "aba")]
    [InlineData("{% for a in [1, 2] %}{% for b in [3, 4] %}{{ a * b }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}", "31 42 1|61 82 2|")]
    [InlineData("{% set a, b = 1, 2 %}{{ a }}{{ b }}", "12")]
    [InlineData("{% set x %}a{{ 1 + 1 }}b{% endset %}[{{ x }}]", "[a2b]")]
    [InlineData("{% set x | upper %}abc{% endset %}{{ x }}", "ABC")]
    [InlineData("{% filter upper %}abc{% endfilter %}", "ABC")]
    [InlineData("{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}{{ a is defined }}", "3False")]
    [InlineData("{% if false %}a{% elif none %}b{% elif 'x' %}c{% else %}d{% endif %}", "c")]
    public void Statements(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('Bob') }} {{ greet('Al', greeting='Hi') }}", "Hello, Bob! Hi, Al!")]
    [InlineData("{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}", "321")]
    [InlineData("{% macro f(a) %}[{{ a }}|{{ b is defined }}]{% endmacro %}{{ f() }}", "[|False]")]
    [InlineData("{% set g = 'outer' %}{% macro f() %}{{ g }}{% set g = 'inner' %}{{ g }}{% endmacro %}{{ f() }}{{ g }}", "outerinnerouter")]
    public void Macros(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 4 / 2 }}", "3 -4 1 2 3.5 1024 7 9 2.0")]
    [InlineData("{{ 1.0 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1.5e-7 }} {{ 10 / 4 }} {{ 1_000 }} {{ -0.0 }} {{ 123456789.0 }}", "1.0 0.30000000000000004 1e+20 1.5e-07 2.5 1000 -0.0 123456789.0")]
    [InlineData("{{ 1 ~ 'a' ~ none ~ true ~ [1, 'b'] }}", "1aNoneTrue[1, 'b']")]
    [InlineData("{{ 'ab' * 3 }}{{ [0] * 2 }}{{ [1] + [2] }}{{ 'a' + 'b' }}", "ababab[0, 0][1, 2]ab")]
    [InlineData("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' in 'cat' }} {{ 2 not in [1, 3] }} {{ 1 == 1.0 }} {{ 1 == true }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }}", "True False True True True True True True")]
    [InlineData("{{ 'y' if 1 > 2 else 'n' }}{{ 'z' if false }}", "n")]
    [InlineData("{{ 0 or 'x' }} {{ 1 and 'y' }} {{ none or [] }} {{ not 0 }} {{ not 'a' }}", "x y [] True False")]
    [InlineData("{{ ['a', \"b'c\", 1, none, true, 1.5] }} {{ {'k': 'v'} }} {{ ('t',) }} {{ (1, 2) }}", "['a', \"b'c\", 1, None, True, 1.5] {'k': 'v'} ('t',) (1, 2)")]
    [InlineData("{{ 'a\\tb' }}|{{ \"it's\" }}|{{ 'say \\\"hi\\\"' }}|{{ '\\u00e9\\x41' }}|{{ 'a\\\\b' }}|{{ 'a' 'b' }}", "a\tb|it's|say \"hi\"|éA|a\\b|ab")]
    [InlineData("{{ 'abcdef'[1:3] }}|{{ 'abcdef'[::-1] }}|{{ [1, 2, 3, 4][1:] }}|{{ [1, 2, 3, 4][-2:] }}|{{ 'abc'[-1] }}|{{ [1, 2, 3, 4, 5][::2] }}|{{ 'abc'[5:] }}", "bc|fedcba|[2, 3, 4]|[3, 4]|c|[1, 3, 5]|")]
    [InlineData("{% set d = {'items': 5, 'role': 'user', 1: 'one'} %}{{ d.role }} {{ d['items'] }} {{ d[1] }} {{ d.missing is defined }} {{ d.items is callable }}", "user 5 one False True")]
    [InlineData("[{{ missing }}][{{ missing|default('d') }}][{{ missing|length }}][{{ none.x is defined }}][{{ [1][5] is defined }}]", "[][d][0][False][False]")]
    [InlineData("{{ range(3)|list }} {{ range(1, 10, 3)|list }} {{ range(3, 0, -1)|list }}", "[0, 1, 2] [1, 4, 7] [3, 2, 1]")]
    [InlineData("{{ dict(a=1, b=2)|tojson }} {{ namespace({'x': 1}).x }}", "{\"a\": 1, \"b\": 2} 1")]
    [InlineData("{{ '%s and %s' % ('a', 1) }}|{{ '%05.2f|%-4d|%+d|%x|%r|%%' % (3.14159, 7, 5, 255, 'q') }}|{{ '%.3e' % 12345.678 }}", "a and 1|03.14|7   |+5|ff|'q'|%|1.235e+04")]
    [InlineData("{{ '%(name)s is %(age)d' % {'name': 'Al', 'age': 3} }}|{{ '%s - %s'|format('Hello?', 'Foo!') }}|{{ '%s' % 'x' }}", "Al is 3|Hello? - Foo!|x")]
    public void Expressions(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ none is none }} {{ 'a' is string }} {{ {} is mapping }} {{ [1] is sequence }} {{ 1 is number }} {{ true is number }} {{ true is boolean }}", "True True True True True True True")]
    [InlineData("{{ x is defined }} {{ x is undefined }} {{ 3 is odd }} {{ 4 is even }} {{ 4 is divisibleby 2 }} {{ 'abc' is iterable }} {{ 5 is iterable }}", "False True True True True True False")]
    [InlineData("{{ 1 is integer }} {{ 1.0 is float }} {{ true is integer }} {{ false is false }} {{ 0 is false }} {{ none is not none }}", "True True False True False False")]
    [InlineData("{{ 'a' is in ['a'] }} {{ 2 is eq 2 }} {{ 1 is lt 2 }} {{ 'AB' is upper }} {{ 'ab' is lower }} {{ false is sameas false }}", "True True True True True True")]
    public void TestsOperator(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ '  a b \n'|trim }}|{{ 'xxhixx'|trim('x') }}|{{ 'hello wORLD'|title }}|{{ 'hELLO'|capitalize }}|{{ 'Ab'|upper }}{{ 'Ab'|lower }}", "a b|hi|Hello World|Hello|ABab")]
    [InlineData("{{ 'abc'|length }} {{ [1, 2]|count }} {{ {'a': 1}|length }} {{ [3, 4]|first }} {{ [3, 4]|last }} {{ 'xyz'|first }} {{ []|first is defined }}", "3 2 1 3 4 x False")]
    [InlineData("{{ [1, 'a', none]|join(', ') }}|{{ ['x', 'y']|join }}|{{ [{'n': 'a'}, {'n': 'b'}]|join('-', attribute='n') }}", "1, a, None|xy|a-b")]
    [InlineData("{{ none|default('d') }}|{{ ''|default('d', true) }}|{{ 0|d(5) }}|{{ 'a-b-c'|replace('-', '+') }}|{{ 'a-b-c'|replace('-', '', 1) }}", "None|d|0|a+b+c|ab-c")]
    [InlineData("{{ '42.7'|int }} {{ 'abc'|int }} {{ 'abc'|int(7) }} {{ 3.9|int }} {{ '1.5'|float }} {{ 2|float }} {{ 5|string ~ 'x' }}", "42 0 7 3 1.5 2.0 5x")]
    [InlineData("{{ 'ab'|list }} {{ {'a': 1}|items|list }} {{ [{'n': 1}, {'m': 2}]|map(attribute='n')|list }} {{ [{'n': 1}, {}]|map(attribute='n', default=0)|list }} {{ [' a', 'b ']|map('trim')|list }}",
        "['a', 'b'] [('a', 1)] [1, Undefined] [1, 0] ['a', 'b']")]
    [InlineData("{% set ms = [{'role': 'user', 'c': 1}, {'role': 'assistant', 'c': 2}, {'role': 'user', 'c': 3}] %}{{ ms|selectattr('role', 'equalto', 'user')|map(attribute='c')|list }} {{ ms|rejectattr('role', 'eq', 'user')|map(attribute='c')|list }} {{ ms|selectattr('c')|list|length }}",
        "[1, 3] [2] 3")]
    [InlineData("{{ [1, 2, 3, 4]|select('odd')|list }} {{ ['a', 'code_interpreter', 'b']|reject('equalto', 'code_interpreter')|join(', ') }}", "[1, 3] a, b")]
    [InlineData("{{ ['a', 'A', 'b', 'a']|unique|list }} {{ [3, 1, 2]|sort|list }} {{ [3, 1, 2]|sort(reverse=true)|list }} {{ [1, 2]|reverse|list }} {{ 'abc'|reverse }}", "['a', 'b'] [1, 2, 3] [3, 2, 1] [2, 1] cba")]
    [InlineData("{{ 2.5|round }} {{ 3.14159|round(2) }} {{ 2.1|round(0, 'ceil') }} {{ 7|round }} {{ -3|abs }} {{ [1, 2, 3]|sum }} {{ [4, 2, 9]|min }} {{ [4, 2, 9]|max }}", "2.0 3.14 3.0 7 3 6 2 9")]
    [InlineData("{{ 'a\nb\n\nc'|indent(2) }}|{{ 'a\nb'|indent(2, true) }}|{{ 'a\n\nb'|indent('> ', blank=true) }}", "a\n  b\n\n  c|  a\n  b|a\n> \n> b")]
    [InlineData("{{ '<a href=\"x\">&'|e }} {{ '<b>'|safe }}", "&lt;a href=&#34;x&#34;&gt;&amp; <b>")]
    public void Filters(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ {'a': 1, 'b': [true, none, 1.5, 'x\"y']}|tojson }}", "{\"a\": 1, \"b\": [true, null, 1.5, \"x\\\"y\"]}")]
    [InlineData("{{ {'a': [1, 2], 'b': {}, 'c': []}|tojson(indent=2) }}", "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {},\n  \"c\": []\n}")]
    [InlineData("{{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}", "{\"a\": 2, \"b\": 1}")]
    [InlineData("{{ 'héllo\n\t\u0001'|tojson }}", "\"héllo\\n\\t\\u0001\"")]
    [InlineData("{{ 'héllo'|tojson(ensure_ascii=true) }}", "\"h\\u00e9llo\"")]
    [InlineData("{{ [1, {'a': 2}]|tojson(separators=(',', ':')) }}", "[1,{\"a\":2}]")]
    [InlineData("{{ {1: 'x', true: 'y'}|tojson }} {{ 1e100|tojson }} {{ 0.5|tojson }}", "{\"1\": \"y\"} 1e+100 0.5")]
    public void ToJsonMatchesPythonJsonDumps(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ '  a b  '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '\n a'.lstrip() }}|{{ 'a \n'.rstrip() }}", "a b|hi|a|a")]
    [InlineData("{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a/b/c'.rsplit('/', 1) }}", "['a', 'b', '', 'c']|['a', 'b']|['a', 'b c']|['a/b', 'c']")]
    [InlineData("{{ 'Hello'.startswith('He') }} {{ 'Hello'.endswith(('x', 'lo')) }} {{ 'ab'.upper() }} {{ 'AB'.lower() }} {{ \"they're ok\".title() }} {{ 'a-b'.replace('-', '+') }}", "True True AB ab They'Re Ok a+b")]
    [InlineData("{{ {'k': 1}.get('k') }} {{ {'k': 1}.get('z') }} {{ {'k': 1}.get('z', 'd') }} {{ {'a': 1}.items()|list }} {{ {'a': 1}.keys()|list }} {{ {'a': 1}.values()|list }}", "1 None d [('a', 1)] ['a'] [1]")]
    [InlineData("{{ '</think>x'.split('</think>')[-1].lstrip('\\n') }} {{ 'abc'.find('c') }} {{ 'a{}c{x}'.format('b', x='d') }} {{ [1, 2, 1].count(1) }}", "x 2 abcd 2")]
    public void Methods(string source, string expected) => Assert.Equal(expected, Render(source));

    [Fact]
    public void StrftimeNowFormatsTheInjectedClock()
    {
        var options = new ChatTemplateOptions { Now = new DateTime(2024, 7, 6, 9, 5, 3) };
        Assert.Equal("2024-07-06 09:05:03|6 July|Sat, 06 Jul 24|09 AM", Render("{{ strftime_now('%Y-%m-%d %H:%M:%S') }}|{{ strftime_now('%-d %B') }}|{{ strftime_now('%a, %d %b %y') }}|{{ strftime_now('%I %p') }}", options));
    }

    [Fact]
    public void MessagesExposeRoleContentAndOptionalToolFields()
    {
        const string source =
            "{% for m in messages %}{{ m.role }}:{{ m['content'] }}:{{ m.tool_calls is defined }}:{{ 'name' in m }}:{{ m.tool_call_id|default('-') }}" +
            "{% for c in m.tool_calls %}:{{ c.id }}/{{ c.type }}/{{ c.function.name }}/{{ c.function.arguments|tojson }}{% endfor %}|{% endfor %}";
        ChatMessage[] messages =
        [
            ChatMessage.User("hi"),
            ChatMessage.Assistant(null, new ChatToolCall("f", new Dictionary<string, object?> { ["a"] = new[] { 1, 2 } }) { Id = "c1" }),
            ChatMessage.Tool("out", "c1", "f"),
            new ChatMessage("user", "x") { ExtraFields = new Dictionary<string, object?> { ["content"] = new List<object?> { "part" }, ["extra"] = true } },
        ];
        Assert.Equal(
            "user:hi:False:False:-|assistant:None:True:False:-:c1/function/f/{\"a\": [1, 2]}|tool:out:False:True:c1|user:['part']:False:False:-|",
            ChatTemplate.Parse(source).Render(messages));
    }

    [Fact]
    public void StandardVariablesHaveHuggingFaceDefaults()
    {
        Assert.Equal(
            "True||None|True|False",
            Render("{{ add_generation_prompt }}|{{ bos_token }}{{ eos_token }}|{{ tools }}|{{ tools is defined }}|{{ messages|length > 0 }}"));
        var options = new ChatTemplateOptions
        {
            AddGenerationPrompt = false,
            BosToken = "<s>",
            ExtraVariables = new Dictionary<string, object?> { ["enable_thinking"] = false, ["bos_token"] = "<override>" },
        };
        Assert.Equal("False <override> False", Render("{{ add_generation_prompt }} {{ bos_token }} {{ enable_thinking }}", options));
    }

    [Fact]
    public void TemplateSetsDoNotLeakIntoTheCallersVariables()
    {
        var template = ChatTemplate.Parse("{% set messages = messages[1:] %}{{ messages|length }}");
        ChatMessage[] messages = [ChatMessage.User("a"), ChatMessage.User("b")];
        Assert.Equal("1", template.Render(messages));
        Assert.Equal("1", template.Render(messages));
    }
}
