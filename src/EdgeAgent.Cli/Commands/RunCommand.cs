using System.CommandLine;
using EdgeAgent.Inference.ChatTemplates;
using EdgeAgent.Inference.Constraints;
using EdgeAgent.Inference.Generation;
using EdgeAgent.Inference.Sampling;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgeagent run</c>: generate text, streamed to stdout.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var prompt = new Option<string?>("--prompt", "-p") { Description = "Prompt text, tokenized as the model's metadata says (BOS if the model adds one)." };
        var promptIds = CommonOptions.PromptIds();
        var maxTokens = new Option<int>("--max-tokens", "-n") { Description = "Maximum tokens to generate.", DefaultValueFactory = _ => 128, Validators = { r => NonNegative(r, "--max-tokens") } };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature; 0 is greedy.", DefaultValueFactory = _ => 0.8f };
        var topK = new Option<int>("--top-k") { Description = "Keep the k most likely tokens (0 disables).", DefaultValueFactory = _ => 40 };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling threshold (1 disables).", DefaultValueFactory = _ => 0.95f };
        var minP = new Option<float>("--min-p") { Description = "Drop tokens below min-p × the top probability (0 disables).", DefaultValueFactory = _ => 0.05f };
        var repeatPenalty = new Option<float>("--repeat-penalty") { Description = "Penalty for recently seen tokens (1 disables).", DefaultValueFactory = _ => 1.0f };
        var seed = new Option<ulong?>("--seed") { Description = "Random seed (default: time-based; give one for reproducible output)." };
        var threads = CommonOptions.Threads();
        var chat = new Option<bool>("--chat") { Description = "Wrap the prompt in the model's chat template (ChatML if it has none)." };
        var system = new Option<string?>("--system") { Description = "System message for --chat." };
        var stop = new Option<string[]>("--stop") { Description = "Stop when this text is generated (repeatable).", AllowMultipleArgumentsPerToken = false };
        var ctx = new Option<int?>("--ctx") { Description = "Context length to allocate (default: the model's)." };
        var jsonSchema = new Option<string?>("--json-schema") { Description = "Constrain the output to JSON valid for this JSON Schema file (constrained decoding; generation ends when the document is complete)." };
        var json = CommonOptions.Json();
        var cmd = new Command("run", "Generate text from a prompt, streaming it to stdout.")
        {
            model, prompt, promptIds, maxTokens, temperature, topK, topP, minP, repeatPenalty, seed, threads, chat, system, stop, ctx, jsonSchema, json,
        };
        cmd.SetAction(r => CliRunner.Run(() =>
        {
            string? text = r.GetValue(prompt), ids = r.GetValue(promptIds);
            if ((text is null) == (ids is null))
            {
                throw new UserErrorException("give exactly one of --prompt (-p) and --prompt-ids");
            }
            if (r.GetValue(chat) && ids is not null)
            {
                throw new UserErrorException("--chat needs --prompt text, not --prompt-ids");
            }
            var sampling = new SamplingOptions
            {
                Temperature = r.GetValue(temperature),
                TopK = r.GetValue(topK),
                TopP = r.GetValue(topP),
                MinP = r.GetValue(minP),
                RepeatPenalty = r.GetValue(repeatPenalty),
                Seed = r.GetValue(seed) ?? (ulong)DateTime.UtcNow.Ticks,
            };
            sampling.Validate();
            var schema = r.GetValue(jsonSchema) is { } schemaPath ? LoadSchema(schemaPath) : null;
            using var session = InferenceSession.Open(r.GetValue(model)!, r.GetValue(threads), r.GetValue(ctx));
            var tokenizer = session.Model.Tokenizer;
            int[] tokens;
            if (ids is not null)
            {
                tokens = CommonOptions.ParseIds(ids);
            }
            else if (r.GetValue(chat))
            {
                var template = session.Model.ChatTemplate;
                var messages = new List<ChatMessage>();
                if (r.GetValue(system) is { } sys)
                {
                    messages.Add(new ChatMessage("system", sys));
                }
                messages.Add(new ChatMessage("user", text!));
                string rendered = template.Render(messages, new ChatTemplateOptions
                {
                    AddGenerationPrompt = true,
                    BosToken = tokenizer.BosId >= 0 ? tokenizer.TokenText(tokenizer.BosId) : "",
                    EosToken = tokenizer.EosId >= 0 ? tokenizer.TokenText(tokenizer.EosId) : "",
                });
                // The template writes BOS itself where the family wants it; special tokens in it are parsed.
                tokens = tokenizer.Encode(rendered, addSpecial: false, parseSpecial: true);
            }
            else
            {
                tokens = tokenizer.Encode(text!, addSpecial: true, parseSpecial: false);
            }
            bool asJson = r.GetValue(json);
            var options = new GenerationOptions
            {
                MaxTokens = r.GetValue(maxTokens),
                Sampling = sampling,
                StopStrings = r.GetValue(stop) ?? [],
                Mask = schema is null ? null : GrammarMask.ForSchema(schema, tokenizer),
            };
            var generator = new Generator(session, tokenizer);
            var result = generator.Generate(tokens, options, onText: asJson ? null : piece =>
            {
                Console.Out.Write(piece);
                Console.Out.Flush();
            });
            if (asJson)
            {
                CliRunner.WriteJson(new
                {
                    text = result.Text,
                    token_ids = result.TokenIds,
                    prompt_tokens = result.PromptTokens,
                    generated_tokens = result.TokenIds.Count,
                    prefill_tokens_per_s = result.PrefillTokensPerSecond,
                    decode_tokens_per_s = result.DecodeTokensPerSecond,
                    finish_reason = result.FinishReason,
                });
            }
            else
            {
                Console.Out.WriteLine();
                Console.Error.WriteLine($"[{result.PromptTokens} prompt tokens at {result.PrefillTokensPerSecond:F1} tok/s; {result.TokenIds.Count} generated at {result.DecodeTokensPerSecond:F1} tok/s; finish: {result.FinishReason}]");
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>Reads and compiles a JSON Schema file; any problem is a one-line user error.</summary>
    internal static SchemaNode LoadSchema(string path)
    {
        string text = CommonOptions.ReadText(path);
        try
        {
            return JsonSchemaCompiler.Compile(text);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new UserErrorException($"--json-schema {path}: not valid JSON ({e.Message})");
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException)
        {
            throw new UserErrorException($"--json-schema {path}: {e.Message}");
        }
    }

    private static void NonNegative(System.CommandLine.Parsing.OptionResult r, string name)
    {
        if (r.GetValueOrDefault<int>() < 0)
        {
            r.AddError($"{name} must be ≥ 0");
        }
    }
}
