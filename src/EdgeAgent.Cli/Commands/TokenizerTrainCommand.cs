using System.CommandLine;
using EdgeAgent.Training.Tokenizers;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgeagent tokenizer-train</c>: byte-level BPE written as a Hugging Face tokenizer.json.</summary>
internal static class TokenizerTrainCommand
{
    public static Command Create()
    {
        var corpus = new Option<string[]>("--corpus") { Description = "UTF-8 training text (repeatable).", Required = true, Arity = ArgumentArity.OneOrMore };
        var vocabSize = new Option<int>("--vocab-size") { Description = $"Vocabulary size: 256 byte tokens + <|endoftext|> + merges (at least {BpeTrainer.MinVocabSize}).", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "tokenizer.json to write.", Required = true };
        var json = CommonOptions.Json();
        var cmd = new Command("tokenizer-train", "Train a byte-level BPE tokenizer (GPT-2 pre-tokenization) and write it as a Hugging Face tokenizer.json.")
        {
            corpus, vocabSize, output, json,
        };
        cmd.SetAction(r => CliRunner.Run(() =>
        {
            var texts = r.GetValue(corpus)!.Select(CommonOptions.ReadText).ToList();
            if (texts.All(t => t.Length == 0))
            {
                throw new UserErrorException("the corpus is empty");
            }
            var started = System.Diagnostics.Stopwatch.StartNew();
            var progress = new ProgressBar("tokenizer-train");
            var vocab = BpeTrainer.Train(texts, r.GetValue(vocabSize), progress.Report);
            progress.Done();
            File.WriteAllText(r.GetValue(output)!, vocab.ToHfJson());
            if (r.GetValue(json))
            {
                CliRunner.WriteJson(new { vocab_size = vocab.Tokens.Count, merges = vocab.Merges.Count, seconds = started.Elapsed.TotalSeconds });
            }
            else
            {
                Console.Out.WriteLine($"wrote {r.GetValue(output)}: {vocab.Tokens.Count} tokens, {vocab.Merges.Count} merges");
            }
            return 0;
        }));
        return cmd;
    }
}
