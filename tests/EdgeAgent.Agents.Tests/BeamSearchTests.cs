using EdgeAgent.Agents.Devices;
using EdgeAgent.Agents.Tools;
using EdgeAgent.Agents.Understanding;
using EdgeAgent.Inference.Constraints;
using EdgeAgent.Inference.Generation;

namespace EdgeAgent.Agents.Tests;

/// <summary>
/// <see cref="BeamSearch"/> with the committed default model and its real tokenizer: the score it reports is the
/// answer's probability recomputed from scratch (so the forked KV caches hold what a fresh evaluation would), width 1
/// is greedy decoding, and a beam wider than the grammar's choices finds the most probable document (checked
/// against enumerating every token sequence the grammar allows).
/// </summary>
public sealed class BeamSearchTests
{
    private static InferenceSession OpenSession() =>
        InferenceSession.Open(DefaultModel.Find() ?? throw new InvalidOperationException($"models/{DefaultModel.FileName} is missing"), threads: 2, contextLength: 2048);

    private static int[] Prompt(InferenceSession session, string request)
    {
        var prompter = new LlmUnderstanding(session, "prompt");
        return prompter.PromptTokens(new UnderstandingInput(DemoHome.Create(), [], request));
    }

    private static GrammarMask AnswerMask(InferenceSession session) =>
        new(new JsonRecognizer(ToolCatalog.AnswerGrammar(DemoHome.Create()), ToolCatalog.AnswerGrammarOptions), TokenTrie.For(session.Model.Tokenizer));

    /// <summary>Sum of the per-step log-probabilities renormalized over the allowed tokens, one token at a time from a
    /// freshly evaluated prompt.</summary>
    private static double Score(InferenceSession session, int[] prompt, IReadOnlyList<int> tokens, GrammarMask mask)
    {
        session.Evaluate(prompt);
        double total = 0;
        var logits = new float[session.Logits.Length];
        foreach (int t in tokens)
        {
            session.Logits.CopyTo(logits, 0);
            mask.Apply(logits);
            double max = logits.Max();
            double lse = max + Math.Log(logits.Sum(x => Math.Exp(x - max)));
            total += logits[t] - lse;
            mask.Accept(t);
            session.Append([t]);
        }
        return total;
    }

    [Fact]
    public void A_narrower_run_of_a_wide_search_is_the_narrow_search()
    {
        using var session = OpenSession();
        var prompt = Prompt(session, "dim the kitchen light to 40% and tell everyone dinner is ready");
        var prior = new GroundingPrior(DemoHome.Create(), "dim the kitchen light to 40% and tell everyone dinner is ready");
        session.Evaluate(prompt);
        var narrow = new BeamSearch(session, 2).Run(prompt, AnswerMask(session), maxTokens: 300, prior: prior);
        var wide = new BeamSearch(session, 5);
        // A wide run first, so the narrow run reuses caches that hold another search's positions.
        wide.Run(prompt, AnswerMask(session), maxTokens: 300, prior: prior);
        var again = wide.Run(prompt, AnswerMask(session), maxTokens: 300, prior: prior, width: 2);
        Assert.Equal(narrow.Tokens, again.Tokens);
        Assert.Equal(narrow.LogProbability, again.LogProbability);
        Assert.Throws<ArgumentOutOfRangeException>(() => wide.Run(prompt, AnswerMask(session), maxTokens: 10, width: 6));
    }

    [Theory]
    [InlineData("turn on the kitchen light and close the garage door", 3)]
    [InlineData("set the living room thermostat to 21", 2)]
    [InlineData("hello there", 4)]
    public void The_reported_score_is_the_answers_probability_recomputed_from_scratch(string request, int width)
    {
        using var session = OpenSession();
        var prompt = Prompt(session, request);
        var search = new BeamSearch(session, width);
        session.Evaluate(prompt);
        var found = search.Run(prompt, AnswerMask(session), maxTokens: 300);

        Assert.True(found.Complete);
        Assert.True(found.Forwards <= width * found.Tokens.Count, $"{found.Forwards} forwards for {found.Tokens.Count} tokens");
        var replay = AnswerMask(session);
        double score = Score(session, prompt, found.Tokens, replay);
        Assert.Equal(score, found.LogProbability, 3);
        Assert.Equal(replay.Output, found.Output);
        Assert.True(replay.IsComplete);

        // A second search on the same session reuses the hypotheses' caches; it must give the same answer.
        session.Evaluate(prompt);
        var again = search.Run(prompt, AnswerMask(session), maxTokens: 300);
        Assert.Equal(found.Tokens, again.Tokens);
    }

    [Fact]
    public void Width_one_is_greedy_decoding()
    {
        using var session = OpenSession();
        var greedy = new LlmUnderstanding(session, "greedy", beamWidth: 1);
        var search = new BeamSearch(session, 1);
        foreach (var request in new[] { "turn off the porch light", "what's the hallway temperature", "lock the front door" })
        {
            var input = new UnderstandingInput(DemoHome.Create(), [], request);
            var expected = greedy.Propose(input).RawOutput;
            var prompt = greedy.PromptTokens(input);
            session.Evaluate(prompt);
            var found = search.Run(prompt, AnswerMask(session), maxTokens: 300);
            Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(found.Output));
        }
    }

    [Fact]
    public void A_beam_wider_than_the_choices_finds_the_most_probable_document()
    {
        using var session = OpenSession();
        var prompt = Prompt(session, "switch the porch light off");
        var schema = JsonSchemaCompiler.Compile("""{"enum":["on","off","dim","open"]}""");
        var recognizer = new JsonRecognizer(schema);
        var trie = TokenTrie.For(session.Model.Tokenizer);

        // Every token sequence the grammar allows, scored from scratch.
        var best = (Score: double.NegativeInfinity, Tokens: new List<int>());
        int documents = 0;
        void Walk(GrammarMask mask, List<int> tokens)
        {
            if (mask.IsFinished)
            {
                documents++;
                double s = Score(session, prompt, tokens, new GrammarMask(recognizer, trie));
                if (s > best.Score)
                {
                    best = (s, [.. tokens]);
                }
                return;
            }
            foreach (int t in mask.AllowedTokens().Where(t => !trie.EndOfGeneration.Contains(t)))
            {
                var next = mask.Clone();
                next.Accept(t);
                Walk(next, [.. tokens, t]);
            }
        }
        Walk(new GrammarMask(recognizer, trie), []);
        Assert.InRange(documents, 4, 200);

        session.Evaluate(prompt);
        var found = new BeamSearch(session, documents).Run(prompt, new GrammarMask(recognizer, trie), maxTokens: 20);
        Assert.Equal(best.Tokens, found.Tokens);
        Assert.Equal(best.Score, found.LogProbability, 3);
    }
    [Fact]
    public void An_answer_the_token_limit_cuts_short_is_incomplete_and_not_schema_valid()
    {
        using var session = OpenSession();
        var prompt = Prompt(session, "turn on the kitchen light");
        session.Evaluate(prompt);
        var found = new BeamSearch(session, 3).Run(prompt, AnswerMask(session), maxTokens: 3);
        Assert.False(found.Complete);
        Assert.InRange(found.Tokens.Count, 1, 3);

        var llm = new LlmUnderstanding(session, "cut", maxTokens: 3, beamWidth: 2);
        var proposal = llm.Propose(new UnderstandingInput(DemoHome.Create(), [], "turn on the kitchen light"));
        Assert.False(proposal.SchemaValid);
        Assert.Empty(proposal.Calls);
    }

    [Fact]
    public void The_search_stops_when_cancelled()
    {
        using var session = OpenSession();
        var prompt = Prompt(session, "turn on the kitchen light");
        session.Evaluate(prompt);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => new BeamSearch(session, 2).Run(prompt, AnswerMask(session), 100, cancelled.Token));
    }

    [Fact]
    public void A_session_whose_cache_does_not_hold_the_prompt_is_refused()
    {
        using var session = OpenSession();
        var prompt = Prompt(session, "turn on the kitchen light");
        session.Evaluate(prompt.AsSpan(0, prompt.Length - 1));
        Assert.Throws<InvalidOperationException>(() => new BeamSearch(session, 2).Run(prompt, AnswerMask(session), 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BeamSearch(session, 0));
    }
}
