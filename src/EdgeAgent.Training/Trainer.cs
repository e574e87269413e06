using System.Numerics.Tensors;
using EdgeAgent.Tensors.Threading;
using EdgeAgent.Training.Data;
using EdgeAgent.Training.Model;
using EdgeAgent.Training.Ops;
using EdgeAgent.Training.Optim;

namespace EdgeAgent.Training;

/// <summary>Settings of a training run.</summary>
public sealed record TrainingOptions
{
    public required int Steps { get; init; }
    public int Batch { get; init; } = 16;
    public int SeqLen { get; init; } = 256;
    public float LearningRate { get; init; } = 3e-3f;

    /// <summary>Warm-up steps; null = 10 % of the steps (at most 200).</summary>
    public int? WarmupSteps { get; init; }
    public float MinLearningRateFraction { get; init; } = 0.1f;

    /// <summary>Clip the global gradient L2 norm to this (0 = off).</summary>
    public float GradClip { get; init; } = 1f;

    /// <summary>Micro-batches of <see cref="Batch"/> sequences summed into each update.</summary>
    public int GradAccumulation { get; init; } = 1;
    public AdamWOptions AdamW { get; init; } = new();
    public ulong Seed { get; init; } = 1;

    public int Warmup => WarmupSteps ?? Math.Min(200, Math.Max(1, Steps / 10));
}

/// <summary>Distillation objective per token: (1 − <see cref="CrossEntropyWeight"/>)·τ²·KL(direction) +
/// <see cref="CrossEntropyWeight"/>·cross-entropy on the data.</summary>
public sealed record DistillationLoss(float Temperature = 2f, KlDirection Direction = KlDirection.Forward, float CrossEntropyWeight = 0f)
{
    public void Validate()
    {
        if (!(Temperature > 0) || float.IsInfinity(Temperature))
        {
            throw new ArgumentException($"--temperature {Temperature} must be a positive number");
        }
        if (!(CrossEntropyWeight >= 0 && CrossEntropyWeight <= 1))
        {
            throw new ArgumentException($"--ce-weight {CrossEntropyWeight} is outside 0..1");
        }
    }
}

/// <summary>What one optimizer step did.</summary>
public readonly record struct StepResult(int Step, float Loss, float LearningRate, float GradNorm, int Tokens);

/// <summary>
/// Trains a <see cref="TrainableTransformer{T}"/> in float32: sample (or take) a batch, forward, cross-entropy,
/// backward, accumulate, clip, AdamW. Deterministic for a seed and thread count (in fact for any thread count: every
/// parallel kernel splits work so each number's summation order is fixed). After the first step nothing is allocated.
/// </summary>
public sealed class Trainer
{
    private readonly TrainingOptions _o;
    private readonly LearningRateSchedule _schedule;
    private readonly int[] _inputs;
    private readonly int[] _targets;
    private readonly Rng _rng;

    public Trainer(ModelShape shape, TrainingOptions options, ComputePool pool, float[]? initialParameters = null)
    {
        if (options.Steps < 1 || options.Batch < 1 || options.SeqLen < 2 || options.GradAccumulation < 1)
        {
            throw new ArgumentException("steps, batch and gradient accumulation must be positive and the sequence at least 2 tokens");
        }
        if (!(options.LearningRate > 0) || float.IsInfinity(options.LearningRate))
        {
            throw new ArgumentException("the learning rate must be a positive number");
        }
        _o = options;
        Model = new TrainableTransformer<float>(shape, options.Batch, options.SeqLen, pool);
        if (initialParameters is null)
        {
            Model.Layout.Initialize(Model.Parameters, options.Seed);
        }
        else
        {
            if (initialParameters.Length != Model.Parameters.Length)
            {
                throw new ArgumentException("initial parameters do not match the model shape");
            }
            initialParameters.CopyTo(Model.Parameters, 0);
        }
        Optimizer = new AdamW(Model.Layout, options.AdamW, pool);
        _schedule = new LearningRateSchedule(options.LearningRate, options.Warmup, options.Steps, options.MinLearningRateFraction);
        _inputs = new int[Model.Rows];
        _targets = new int[Model.Rows];
        _rng = new Rng(options.Seed ^ 0x5DEECE66DUL);
    }

    public TrainableTransformer<float> Model { get; }
    public AdamW Optimizer { get; }
    public TrainingOptions Options => _o;

    /// <summary>Optimizer steps done.</summary>
    public int Step { get; private set; }

    /// <summary>Tokens per optimizer step.</summary>
    public int TokensPerStep => Model.Rows * _o.GradAccumulation;

    /// <summary>One optimizer step on random sequences of <paramref name="data"/>.</summary>
    public StepResult TrainStep(TokenDataset data)
    {
        Model.ZeroGradients();
        double lossSum = 0;
        int count = 0;
        float scale = 1f / (Model.Rows * _o.GradAccumulation);
        for (int micro = 0; micro < _o.GradAccumulation; micro++)
        {
            data.SampleBatch(_rng, _o.Batch, _o.SeqLen, _inputs, _targets);
            Model.Forward(_inputs);
            var (sum, n) = Model.CrossEntropy(_targets, scale);
            Model.Backward();
            lossSum += sum;
            count += n;
        }
        float norm = GradientNorm(Model.Gradients);
        if (_o.GradClip > 0 && norm > _o.GradClip)
        {
            TensorPrimitives.Multiply(Model.Gradients, _o.GradClip / norm, Model.Gradients);
        }
        float lr = _schedule.At(Step);
        Optimizer.Update(Model.Parameters, Model.Gradients, lr);
        Step++;
        return new StepResult(Step, (float)(lossSum / count), lr, norm, count);
    }

    /// <summary>
    /// One optimizer step of distillation on random sequences of <paramref name="data"/>: the teacher (same batch and
    /// sequence length) runs forward on the batch, and the student minimises (1 − α)·τ²·KL + α·cross-entropy per token
    /// (<see cref="DistillationLoss"/>; α = 0 is pure KL). Sampling, schedule, clipping and AdamW are those of
    /// <see cref="TrainStep"/>, so a distillation run and a training run with the same seed see the same batches from the
    /// same initial weights.
    /// </summary>
    public StepResult DistillStep(TokenDataset data, TrainableTransformer<float> teacher, DistillationLoss loss)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(loss);
        if (teacher.Rows != Model.Rows || teacher.SeqLen != Model.SeqLen || teacher.Shape.VocabSize != Model.Shape.VocabSize)
        {
            throw new ArgumentException("the teacher must run the same batch, sequence length and vocabulary as the student");
        }
        Model.ZeroGradients();
        double lossSum = 0;
        int count = 0;
        float scale = 1f / (Model.Rows * _o.GradAccumulation);
        float alpha = loss.CrossEntropyWeight;
        for (int micro = 0; micro < _o.GradAccumulation; micro++)
        {
            data.SampleBatch(_rng, _o.Batch, _o.SeqLen, _inputs, _targets);
            teacher.Forward(_inputs);
            Model.Forward(_inputs);
            if (alpha > 0)
            {
                _logitsCopy ??= new float[Model.Logits.Length];
                _klGradient ??= new float[Model.Logits.Length];
                Model.Logits.CopyTo(_logitsCopy, 0);
            }
            double kl = alpha < 1 ? Model.KlDivergence(teacher.Logits, loss.Temperature, loss.Direction, (1 - alpha) * scale) : 0;
            double ce = 0;
            if (alpha > 0)
            {
                if (alpha < 1)
                {
                    Model.Logits.CopyTo(_klGradient!, 0);
                }
                _logitsCopy!.CopyTo(Model.Logits, 0);
                (ce, _) = Model.CrossEntropy(_targets, alpha * scale);
                if (alpha < 1)
                {
                    TensorPrimitives.Add(Model.Logits, _klGradient!, Model.Logits);
                }
            }
            Model.Backward();
            lossSum += ((1 - alpha) * kl) + (alpha * ce);
            count += Model.Rows;
        }
        float norm = GradientNorm(Model.Gradients);
        if (_o.GradClip > 0 && norm > _o.GradClip)
        {
            TensorPrimitives.Multiply(Model.Gradients, _o.GradClip / norm, Model.Gradients);
        }
        float lr = _schedule.At(Step);
        Optimizer.Update(Model.Parameters, Model.Gradients, lr);
        Step++;
        return new StepResult(Step, (float)(lossSum / count), lr, norm, count);
    }

    private float[]? _logitsCopy, _klGradient;

    /// <summary>Mean negative log-likelihood per token over the non-overlapping windows of <paramref name="data"/>
    /// (BOS + S−1 tokens each, as <c>perplexity --ctx S</c>); exp of it is the perplexity.</summary>
    public double Evaluate(TokenDataset data, int maxWindows = int.MaxValue) => Evaluate(Model, data, _inputs, _targets, maxWindows);

    internal static double Evaluate(TrainableTransformer<float> model, TokenDataset data, int[] inputs, int[] targets, int maxWindows = int.MaxValue)
    {
        int windows = Math.Min(maxWindows, data.EvalWindows(model.SeqLen));
        if (windows == 0)
        {
            throw new ArgumentException($"the evaluation text has {data.Count} tokens, fewer than one window of {model.SeqLen - 1}");
        }
        double sum = 0;
        long count = 0;
        for (int w = 0; w < windows; w += model.Batch)
        {
            data.EvalBatch(w, model.Batch, model.SeqLen, inputs, targets);
            if (windows - w < model.Batch)
            {
                // Rows past the requested windows are ignored padding.
                for (int r = (windows - w) * model.SeqLen; r < targets.Length; r++)
                {
                    targets[r] = -1;
                }
            }
            model.Forward(inputs);
            var (s, n) = model.CrossEntropy(targets, null);
            sum += s;
            count += n;
        }
        return sum / count;
    }

    /// <summary>Global L2 norm of the gradient: fixed chunks summed in order (deterministic).</summary>
    public static float GradientNorm(ReadOnlySpan<float> g)
    {
        double sum = 0;
        for (int i = 0; i < g.Length; i += 4096)
        {
            sum += TensorPrimitives.SumOfSquares(g.Slice(i, Math.Min(4096, g.Length - i)));
        }
        return (float)Math.Sqrt(sum);
    }

    /// <summary>Writes parameters, optimizer moments, step and sampler state: <see cref="LoadCheckpoint"/> resumes
    /// exactly where this run is. <paramref name="runKey"/> identifies the run (corpus, settings); empty for none.</summary>
    public void SaveCheckpoint(string path, string runKey = "") => Checkpoint.Save(path, this, _rng, runKey);

    /// <summary>Restores a checkpoint written by a trainer of the same shape (and, when both have one, the same run
    /// key).</summary>
    /// <exception cref="InvalidDataException">The file is not a checkpoint of this model shape, or of this run.</exception>
    public void LoadCheckpoint(string path, string runKey = "") => Step = Checkpoint.Load(path, this, _rng, runKey);
}
