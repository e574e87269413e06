using System.Globalization;
using System.CommandLine;
using System.Diagnostics;
using EdgeAgent.Inference.Tokenizers;
using EdgeAgent.Tensors.Threading;
using EdgeAgent.Training;
using EdgeAgent.Training.Data;
using EdgeAgent.Training.Model;
using EdgeAgent.Training.Tokenizers;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgeagent train</c>: train a llama model from scratch (or from --init) and write an F32 GGUF.</summary>
internal static class TrainCommand
{
    private const string AnswerStart = "<|im_start|>assistant\n", AnswerEnd = "<|im_end|>";

    /// <summary>A ChatML chat's tokens and which are answers. The text is cut where pre-tokenization cuts anyway (after
    /// "assistant\n", after "&lt;|im_end|&gt;"), so the pieces tokenize exactly as the whole chat does.</summary>
    internal static (int[] Tokens, bool[] Scored) AssistantSpans(string chat, Tokenizer tok)
    {
        var tokens = new List<int>();
        var scored = new List<bool>();
        void Add(string piece, bool score)
        {
            if (piece.Length > 0)
            {
                var ids = tok.Encode(piece, parseSpecial: true);
                tokens.AddRange(ids);
                scored.AddRange(Enumerable.Repeat(score, ids.Length));
            }
        }
        int at = 0;
        while (at < chat.Length)
        {
            int start = chat.IndexOf(AnswerStart, at, StringComparison.Ordinal);
            if (start < 0)
            {
                Add(chat[at..], false);
                break;
            }
            start += AnswerStart.Length;
            int end = chat.IndexOf(AnswerEnd, start, StringComparison.Ordinal);
            end = end < 0 ? chat.Length : end + AnswerEnd.Length;
            Add(chat[at..start], false);
            Add(chat[start..end], true);
            at = end;
        }
        return (tokens.ToArray(), scored.ToArray());
    }

    public static Command Create()
    {
        var corpus = new Option<string[]>("--corpus") { Description = "UTF-8 training text (repeatable).", Required = true, Arity = ArgumentArity.OneOrMore };
        var valid = new Option<string?>("--valid") { Description = "Held-out UTF-8 text: its loss is reported (valid_loss)." };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "tokenizer.json (from tokenizer-train or Hugging Face, byte-level BPE)." };
        var vocabSize = new Option<int?>("--vocab-size") { Description = "Train a byte-level BPE of this size on the corpus first (instead of --tokenizer)." };
        var dim = new Option<int?>("--dim") { Description = "Model width D." };
        var layers = new Option<int?>("--layers") { Description = "Transformer blocks." };
        var heads = new Option<int?>("--heads") { Description = "Attention heads (D must be divisible by it)." };
        var kvHeads = new Option<int?>("--kv-heads") { Description = "K/V heads for GQA (default: --heads)." };
        var ffn = new Option<int?>("--ffn") { Description = "Feed-forward width F." };
        var ctx = new Option<int>("--ctx") { Description = "Training sequence length (BOS + ctx-1 tokens), also the model's context.", DefaultValueFactory = _ => 256 };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps.", Required = true };
        var batch = new Option<int>("--batch") { Description = "Sequences per step.", DefaultValueFactory = _ => 16 };
        var lr = new Option<float>("--lr") { Description = "Peak learning rate (linear warm-up, cosine decay to 10%).", DefaultValueFactory = _ => 3e-3f };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the initialisation and batch sampling.", DefaultValueFactory = _ => 1UL };
        var threads = CommonOptions.Threads();
        var init = new Option<string?>("--init") { Description = "Continue from this llama GGUF (its shape and tokenizer)." };
        var output = new Option<string>("--output", "-o") { Description = "GGUF to write.", Required = true };
        var accum = new Option<int>("--grad-accum") { Description = "Micro-batches summed per step.", DefaultValueFactory = _ => 1 };
        var tied = new Option<bool>("--tied") { Description = "Share the output head with the token embedding." };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Checkpoint file: resumed from when it exists and belongs to this run (same corpus and settings; another run's is refused), written every 100 steps and at the end." };
        var lossCurve = new Option<string?>("--loss-curve") { Description = "Write the loss curve (train, and valid every ~5% of the run) as a PNG." };
        var documents = new Option<bool>("--documents") { Description = "The corpus is documents separated by blank lines (e.g. chats): every training sequence starts at one, after BOS." };
        var assistantOnly = new Option<bool>("--assistant-only") { Description = "With --documents (ChatML chats): the loss is taken only on the assistant's answers (after '<|im_start|>assistant\\n', through '<|im_end|>')." };
        var contextLength = new Option<int?>("--context-length") { Description = "Context length written to the model (default: --ctx); at least --ctx." };
        var chatTemplate = new Option<string?>("--chat-template") { Description = "Jinja chat template FILE to store in the model (tokenizer.chat_template)." };
        var json = CommonOptions.Json();
        var cmd = new Command("train", "Train a llama-architecture model and write it as a standard F32 GGUF with the tokenizer inside.")
        {
            corpus, valid, tokenizer, vocabSize, dim, layers, heads, kvHeads, ffn, ctx, steps, batch, lr, seed, threads, init, output,
            accum, tied, checkpoint, lossCurve, documents, assistantOnly, contextLength, chatTemplate, json,
        };
        cmd.SetAction(r => CliRunner.Run(() =>
        {
            var texts = r.GetValue(corpus)!.Select(CommonOptions.ReadText).ToList();
            if (texts.All(t => t.Length == 0))
            {
                throw new UserErrorException("the corpus is empty");
            }
            int seqLen = r.GetValue(ctx), nSteps = r.GetValue(steps), nBatch = r.GetValue(batch), nThreads = r.GetValue(threads);
            if (seqLen < 2 || nSteps < 1 || nBatch < 1 || r.GetValue(accum) < 1 || nThreads < 1)
            {
                throw new UserErrorException("--ctx must be at least 2 and --steps, --batch, --grad-accum, --threads at least 1");
            }
            string? validText = r.GetValue(valid) is { } vp ? CommonOptions.ReadText(vp) : null;

            // Shape, tokenizer and starting weights.
            TokenizerVocab vocab;
            ModelShape shape;
            float[]? initial = null;
            if (r.GetValue(init) is { } initPath)
            {
                if (r.GetValue(tokenizer) is not null || r.GetValue(vocabSize) is not null)
                {
                    throw new UserErrorException("--init brings its own tokenizer; drop --tokenizer/--vocab-size");
                }
                (shape, initial, vocab) = ModelFile.Read(initPath);
                shape = shape with { ContextLength = Math.Max(shape.ContextLength, seqLen) };
            }
            else
            {
                if ((r.GetValue(tokenizer) is null) == (r.GetValue(vocabSize) is null))
                {
                    throw new UserErrorException("give exactly one of --tokenizer and --vocab-size");
                }
                vocab = r.GetValue(tokenizer) is { } tp ? HfTokenizerJson.FromFile(tp)
                    : BpeTrainer.Train(texts, r.GetValue(vocabSize)!.Value).ToVocab();
                int d = r.GetValue(dim) ?? throw new UserErrorException("--dim is required (or --init)");
                int h = r.GetValue(heads) ?? throw new UserErrorException("--heads is required (or --init)");
                shape = new ModelShape(d, r.GetValue(layers) ?? throw new UserErrorException("--layers is required (or --init)"), h,
                    r.GetValue(kvHeads) ?? h, r.GetValue(ffn) ?? throw new UserErrorException("--ffn is required (or --init)"),
                    vocab.Tokens.Length, Math.Max(seqLen, r.GetValue(contextLength) ?? seqLen), r.GetValue(tied));
                try
                {
                    shape.Validate();
                }
                catch (ArgumentException e)
                {
                    throw new UserErrorException(e.Message);
                }
            }
            var tok = Tokenizer.Create(vocab);
            if (tok.BosId < 0)
            {
                throw new UserErrorException("the tokenizer has no BOS token (training sequences start with BOS)");
            }
            if (r.GetValue(chatTemplate) is { } templatePath)
            {
                vocab = vocab with { ChatTemplate = CommonOptions.ReadText(templatePath) };
            }
            if (r.GetValue(assistantOnly) && !r.GetValue(documents))
            {
                throw new UserErrorException("--assistant-only needs --documents");
            }
            TokenDataset train;
            if (r.GetValue(documents))
            {
                var docs = texts.SelectMany(t => t.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)).ToList();
                // Chat markers that are special tokens of the vocabulary (a Hugging Face tokenizer's <|im_start|>) are
                // read as those tokens (parseSpecial), as inference's chat template rendering does, so the model learns
                // on exactly the ids it will read. (Our own BPE has no such tokens: its markers are text in both.)
                if (r.GetValue(assistantOnly))
                {
                    var encoded = docs.Select(d => AssistantSpans(d, tok)).ToList();
                    int mismatched = docs.Take(50).Where((d, i) => !tok.Encode(d, parseSpecial: true).AsSpan().SequenceEqual(encoded[i].Tokens)).Count();
                    Console.Error.WriteLine($"answers: {encoded.Sum(e => e.Scored.Count(x => x)):N0} of {encoded.Sum(e => e.Tokens.Length):N0} tokens scored; {mismatched} of the first 50 chats tokenize differently in pieces");
                    train = new TokenDataset(encoded.Select(e => e.Tokens).ToList(), tok.BosId, encoded.Select(e => e.Scored).ToList());
                }
                else
                {
                    train = new TokenDataset(docs.Select(d => tok.Encode(d, parseSpecial: true)).ToList(), tok.BosId);
                }
            }
            else
            {
                train = new TokenDataset(texts.SelectMany(t => tok.Encode(t)).ToArray(), tok.BosId);
            }
            var held = validText is null ? null : new TokenDataset(tok.Encode(validText), tok.BosId);
            if (train.Count < seqLen)
            {
                throw new UserErrorException($"the corpus has {train.Count} tokens, fewer than one sequence of --ctx {seqLen}");
            }
            if (held is not null && held.EvalWindows(seqLen) == 0)
            {
                throw new UserErrorException($"the --valid text has {held.Count} tokens, fewer than one window of {seqLen - 1}");
            }

            var options = new TrainingOptions
            {
                Steps = nSteps,
                Batch = nBatch,
                SeqLen = seqLen,
                LearningRate = r.GetValue(lr),
                GradAccumulation = r.GetValue(accum),
                Seed = r.GetValue(seed),
            };
            using var pool = new ComputePool(nThreads);
            var trainer = new Trainer(shape, options, pool, initial);
            string? ckpt = r.GetValue(checkpoint);
            // What makes this run this run: its training tokens (and which of them are scored) and the settings that
            // shape the steps. A checkpoint written by another run is refused instead of silently resumed.
            string runKey = string.Create(CultureInfo.InvariantCulture,
                $"corpus {train.Count} tokens #{train.Fingerprint():x16}, steps {nSteps}, batch {nBatch}, ctx {seqLen}, lr {options.LearningRate}, grad-accum {options.GradAccumulation}, seed {options.Seed}");
            if (ckpt is not null && File.Exists(ckpt))
            {
                try
                {
                    trainer.LoadCheckpoint(ckpt, runKey);
                }
                catch (InvalidDataException e)
                {
                    throw new UserErrorException(e.Message);
                }
                Console.Error.WriteLine($"resumed from {ckpt} at step {trainer.Step}");
            }
            long parameters = trainer.Model.Layout.Count;
            Console.Error.WriteLine($"model: dim {shape.Dim}, {shape.Layers} layers, {shape.Heads} heads ({shape.KvHeads} kv), ffn {shape.FfnDim}, vocab {shape.VocabSize}: {parameters:N0} parameters; {train.Count:N0} training tokens");

            string? curvePath = r.GetValue(lossCurve);
            var trainCurve = new List<(int Step, double Loss)>();
            var validCurve = new List<(int Step, double Loss)>();
            int evalEvery = Math.Max(1, nSteps / 20);
            var progress = new ProgressBar("train");
            var clock = new Stopwatch();
            long tokens = 0;
            while (trainer.Step < nSteps)
            {
                clock.Start();
                var step = trainer.TrainStep(train);
                clock.Stop();
                tokens += trainer.TokensPerStep;
                if (!float.IsFinite(step.Loss))
                {
                    throw new UserErrorException($"the loss diverged at step {step.Step} (lower --lr)");
                }
                trainCurve.Add((step.Step, step.Loss));
                if (curvePath is not null && held is not null && (step.Step % evalEvery == 0 || step.Step == nSteps))
                {
                    // Intermediate points on the first 32 windows (a full pass over a large held-out text would eat the budget).
                    validCurve.Add((step.Step, step.Step == nSteps ? trainer.Evaluate(held) : trainer.Evaluate(held, maxWindows: 32)));
                }
                if (ckpt is not null && (step.Step % 100 == 0 || step.Step == nSteps))
                {
                    trainer.SaveCheckpoint(ckpt, runKey);
                }
                progress.Report(step.Step, nSteps, $"loss {step.Loss:F3} lr {step.LearningRate:E1} {tokens / clock.Elapsed.TotalSeconds:F0} tok/s");
            }
            progress.Done();
            double tokensPerS = tokens == 0 ? 0 : tokens / clock.Elapsed.TotalSeconds;
            double? validLoss = held is null ? null : validCurve.Count > 0 && validCurve[^1].Step == nSteps ? validCurve[^1].Loss : trainer.Evaluate(held);
            // The train loss reported is the mean of the last 5% of steps (one batch is noisy).
            int tail = Math.Max(1, trainCurve.Count / 20);
            // No step run (a checkpoint already at --steps): no train loss to report.
            double? trainLoss = trainCurve.Count == 0 ? null : trainCurve.Skip(trainCurve.Count - tail).Average(p => p.Loss);
            if (trainCurve.Count == 0)
            {
                Console.Error.WriteLine($"nothing to train: the checkpoint is already at step {trainer.Step} of {nSteps}; writing its model");
            }
            ModelFile.Write(r.GetValue(output)!, trainer.Model.Layout, trainer.Model.Parameters, vocab);
            if (held is not null)
            {
                double unigram = UnigramBaseline.MeanNll(train.Tokens, held.Tokens, shape.VocabSize);
                Console.Error.WriteLine($"valid: loss {validLoss:F4} (perplexity {Math.Exp(validLoss!.Value):F2}); unigram baseline perplexity {Math.Exp(unigram):F2}");
            }
            if (curvePath is not null)
            {
                LossCurvePlot.Write(curvePath, trainCurve, validCurve, $"dim {shape.Dim}, {shape.Layers} layers, vocab {shape.VocabSize}");
            }
            if (r.GetValue(json))
            {
                CliRunner.WriteJson(new { steps = trainer.Step, parameters, train_loss = trainLoss, valid_loss = validLoss, tokens_per_s = tokensPerS });
            }
            else
            {
                Console.Out.WriteLine($"wrote {r.GetValue(output)}: {trainer.Step} steps, train loss {(trainLoss is { } tl ? tl.ToString("F4", CultureInfo.InvariantCulture) : "-")}, {tokensPerS:F0} tokens/s");
            }
            return 0;
        }));
        return cmd;
    }
}
