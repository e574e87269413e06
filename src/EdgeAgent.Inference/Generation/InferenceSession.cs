using EdgeAgent.Inference.Model;
using EdgeAgent.Tensors.Threading;

namespace EdgeAgent.Inference.Generation;

/// <summary>
/// A model ready to run: the loaded weights, a compute pool, the forward pass and a KV cache for one sequence.
/// Not thread-safe: one sequence at a time.
/// </summary>
public sealed class InferenceSession : IDisposable
{
    private readonly bool _ownsModel;

    public InferenceSession(LlamaModel model, int threads, int? contextLength = null, bool ownsModel = false)
    {
        Model = model;
        _ownsModel = ownsModel;
        Pool = new ComputePool(threads);
        int ctx = Math.Clamp(contextLength ?? model.Config.ContextLength, 1, model.Config.ContextLength);
        Transformer = new Transformer(model.Config, model.Weights, Pool, ctx);
        Cache = new KvCache(model.Config, ctx);
        Logits = new float[model.Config.VocabSize];
    }

    /// <summary>Loads a model file and prepares it.</summary>
    public static InferenceSession Open(string path, int threads, int? contextLength = null)
    {
        var model = LlamaModel.Load(path);
        try
        {
            return new InferenceSession(model, threads, contextLength, ownsModel: true);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public LlamaModel Model { get; }
    public ComputePool Pool { get; }
    public Transformer Transformer { get; }
    public KvCache Cache { get; }

    /// <summary>Logits of the last evaluated position (length V).</summary>
    public float[] Logits { get; }

    public int ContextLength => Cache.Capacity;

    /// <summary>Clears the cache and evaluates <paramref name="tokens"/>; returns the last position's logits.</summary>
    public float[] Evaluate(ReadOnlySpan<int> tokens)
    {
        Cache.Clear();
        Transformer.Forward(tokens, Cache, Logits);
        return Logits;
    }

    /// <summary>Appends tokens to the current sequence and updates <see cref="Logits"/>.</summary>
    public void Append(ReadOnlySpan<int> tokens) => Transformer.Forward(tokens, Cache, Logits);

    public void Dispose()
    {
        Pool.Dispose();
        if (_ownsModel)
        {
            Model.Dispose();
        }
    }
}
