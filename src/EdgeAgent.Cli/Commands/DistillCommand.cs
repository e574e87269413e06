using System.CommandLine;
using System.Diagnostics;
using EdgeAgent.Inference.Gguf;
using EdgeAgent.Inference.Tokenizers;
using EdgeAgent.Tensors.Threading;
using EdgeAgent.Training;
using EdgeAgent.Training.Data;
using EdgeAgent.Training.Model;
using EdgeAgent.Training.Ops;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgeagent distill</c>: train a student on the teacher's logits (forward or reverse KL at a temperature,
/// optionally mixed with cross-entropy) with the training engine.</summary>
internal static class DistillCommand
{
    public static Command Create()
    {
        var teacher = new Option<string>("--teacher") { Description = "Teacher model (F32/F16/BF16 llama GGUF, e.g. one written by train).", Required = true };
        var student = new Option<string?>("--student") { Description = "Student model to start from (e.g. a pruned teacher); its zero weights stay zero." };
        var studentLayers = new Option<int?>("--student-layers") { Description = "Fresh student with this many blocks (default: the teacher's)." };
        var studentDim = new Option<int?>("--student-dim") { Description = "Fresh student width (default: the teacher's; heads keep the teacher's head size, ffn scales with the width)." };
        var data = new Option<string>("--data") { Description = "Training text.", Required = true };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps.", Required = true };
        var kl = new Option<string>("--kl") { Description = "forward | reverse.", DefaultValueFactory = _ => "forward" };
        kl.AcceptOnlyFromAmong("forward", "reverse");
        var temperature = new Option<float>("--temperature") { Description = "Softmax temperature of both distributions.", DefaultValueFactory = _ => 2f };
        var ceWeight = new Option<float>("--ce-weight") { Description = "Weight α of the cross-entropy on the data: loss = (1−α)·τ²·KL + α·CE.", DefaultValueFactory = _ => 0f };
        var ctx = new Option<int>("--ctx") { Description = "Sequence length (BOS + ctx-1 tokens), as train.", DefaultValueFactory = _ => 256 };
        var batch = new Option<int>("--batch") { Description = "Sequences per step.", DefaultValueFactory = _ => 16 };
        var lr = new Option<float>("--lr") { Description = "Peak learning rate (warm-up, cosine decay), as train.", DefaultValueFactory = _ => 3e-3f };
        var seed = new Option<ulong>("--seed") { Description = "Seed of a fresh student's initialisation and of batch sampling (as train).", DefaultValueFactory = _ => 1UL };
        var threads = CommonOptions.Threads();
        var output = CompressionOptions.Output();
        var json = CommonOptions.Json();
        var cmd = new Command("distill", "Train a student on the teacher's logits (forward or reverse KL at a temperature, optionally mixed with cross-entropy); writes an F32 GGUF with the teacher's tokenizer.")
        {
            teacher, student, studentLayers, studentDim, data, steps, kl, temperature, ceWeight, ctx, batch, lr, seed, threads, output, json,
        };
        cmd.SetAction(r => CliRunner.Run(() =>
        {
            var loss = new DistillationLoss(r.GetValue(temperature), r.GetValue(kl) == "reverse" ? KlDirection.Reverse : KlDirection.Forward, r.GetValue(ceWeight));
            int seqLen = r.GetValue(ctx), nSteps = r.GetValue(steps), nBatch = r.GetValue(batch), nThreads = r.GetValue(threads);
            try
            {
                loss.Validate();
            }
            catch (ArgumentException e)
            {
                throw new UserErrorException(e.Message);
            }
            if (seqLen < 2 || nSteps < 1 || nBatch < 1 || nThreads < 1)
            {
                throw new UserErrorException("--ctx must be at least 2 and --steps, --batch, --threads at least 1");
            }
            if (r.GetValue(student) is not null && (r.GetValue(studentLayers) is not null || r.GetValue(studentDim) is not null))
            {
                throw new UserErrorException("--student brings its own shape; drop --student-layers/--student-dim");
            }
            var text = CommonOptions.ReadText(r.GetValue(data)!);
            var (teacherShape, teacherParameters, vocab) = Read(r.GetValue(teacher)!);
            teacherShape = teacherShape with { ContextLength = Math.Max(teacherShape.ContextLength, seqLen) };

            ModelShape shape;
            float[]? initial = null;
            if (r.GetValue(student) is { } studentPath)
            {
                (shape, initial, var studentVocab) = Read(studentPath);
                if (studentVocab.Tokens.Length != vocab.Tokens.Length)
                {
                    throw new UserErrorException($"the student's vocabulary ({studentVocab.Tokens.Length}) differs from the teacher's ({vocab.Tokens.Length})");
                }
                shape = shape with { ContextLength = Math.Max(shape.ContextLength, seqLen) };
            }
            else
            {
                int dim = r.GetValue(studentDim) ?? teacherShape.Dim;
                int layers = r.GetValue(studentLayers) ?? teacherShape.Layers;
                if (dim < 1 || layers < 1 || dim % teacherShape.HeadDim != 0)
                {
                    throw new UserErrorException($"--student-layers must be positive and --student-dim a positive multiple of the teacher's head size {teacherShape.HeadDim}");
                }
                int heads = dim / teacherShape.HeadDim;
                int kvHeads = Math.Max(1, heads * teacherShape.KvHeads / teacherShape.Heads);
                int ffn = (int)((long)teacherShape.FfnDim * dim / teacherShape.Dim);
                shape = teacherShape with { Dim = dim, Layers = layers, Heads = heads, KvHeads = heads % kvHeads == 0 ? kvHeads : heads, FfnDim = ffn };
            }

            var tok = Tokenizer.Create(vocab);
            var corpus = new TokenDataset(tok.Encode(text), Math.Max(0, tok.BosId));
            if (corpus.Count < seqLen)
            {
                throw new UserErrorException($"--data has {corpus.Count} tokens, fewer than one sequence of --ctx {seqLen}");
            }
            using var pool = new ComputePool(nThreads);
            var teacherNet = new TrainableTransformer<float>(teacherShape, nBatch, seqLen, pool);
            teacherParameters.CopyTo(teacherNet.Parameters, 0);
            var options = new TrainingOptions { Steps = nSteps, Batch = nBatch, SeqLen = seqLen, LearningRate = r.GetValue(lr), Seed = r.GetValue(seed) };
            var trainer = new Trainer(shape, options, pool, initial);
            // A pruned student keeps its zeros: they are reset after every update.
            int[] zeros = initial is null ? [] : [.. trainer.Model.Layout.Tensors.Where(t => t.IsMatrix)
                .SelectMany(t => Enumerable.Range((int)t.Offset, (int)t.Length)).Where(i => initial[i] == 0f)];
            Console.Error.WriteLine($"teacher: {teacherShape.Layers} layers, dim {teacherShape.Dim}; student: {shape.Layers} layers, dim {shape.Dim}, {trainer.Model.Layout.Count:N0} parameters{(zeros.Length > 0 ? $", {zeros.Length:N0} zeros kept" : "")}; {corpus.Count:N0} tokens");

            var progress = new ProgressBar("distill");
            var clock = Stopwatch.StartNew();
            var losses = new List<float>();
            while (trainer.Step < nSteps)
            {
                var step = trainer.DistillStep(corpus, teacherNet, loss);
                foreach (int i in zeros)
                {
                    trainer.Model.Parameters[i] = 0f;
                }
                if (!float.IsFinite(step.Loss))
                {
                    throw new UserErrorException($"the loss diverged at step {step.Step} (lower --lr)");
                }
                losses.Add(step.Loss);
                progress.Report(step.Step, nSteps, $"loss {step.Loss:F3}");
            }
            progress.Done();
            ModelFile.Write(r.GetValue(output)!, trainer.Model.Layout, trainer.Model.Parameters, vocab, "edgeagent-distilled");
            int tail = Math.Max(1, losses.Count / 20);
            double finalLoss = losses.Skip(losses.Count - tail).Average();
            double tokensPerS = (double)nSteps * trainer.TokensPerStep / clock.Elapsed.TotalSeconds;
            if (r.GetValue(json))
            {
                CliRunner.WriteJson(new { steps = trainer.Step, parameters = trainer.Model.Layout.Count, loss = finalLoss, tokens_per_s = tokensPerS });
            }
            else
            {
                Console.Out.WriteLine($"wrote {r.GetValue(output)}: {trainer.Step} steps, distillation loss {finalLoss:F4}, {tokensPerS:F0} tokens/s");
            }
            return 0;
        }));
        return cmd;
    }

    private static (ModelShape Shape, float[] Parameters, TokenizerVocab Vocab) Read(string path)
    {
        try
        {
            return ModelFile.Read(path);
        }
        catch (GgufFormatException e)
        {
            throw new UserErrorException($"{path}: {e.Message}");
        }
    }
}
