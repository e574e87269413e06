using EdgeAgent.Tensors.Threading;
using EdgeAgent.Training.Model;

namespace EdgeAgent.Training.Optim;

/// <summary>AdamW hyper-parameters (Loshchilov and Hutter 2019).</summary>
public sealed record AdamWOptions(float Beta1 = 0.9f, float Beta2 = 0.95f, float Epsilon = 1e-8f, float WeightDecay = 0.1f);

/// <summary>
/// AdamW with decoupled weight decay, applied to matrices only (not to norm gains), over the flat parameter vector.
/// Element-wise, so any split over threads gives the same result.
/// </summary>
public sealed class AdamW
{
    private const int Chunk = 1 << 14;
    private readonly float[] _decayMask;   // 1 for matrices, 0 for vectors
    private readonly ComputePool _pool;
    private readonly RangeBody _body;
    private float[]? _p, _g;
    private float _lr, _b1c, _b2c;

    public AdamW(ParameterLayout layout, AdamWOptions options, ComputePool pool)
    {
        Options = options;
        _pool = pool;
        M = new float[layout.Count];
        V = new float[layout.Count];
        _decayMask = new float[layout.Count];
        foreach (var t in layout.Tensors)
        {
            _decayMask.AsSpan((int)t.Offset, (int)t.Length).Fill(t.IsMatrix ? 1f : 0f);
        }
        _body = UpdateRange;
    }

    public AdamWOptions Options { get; }

    /// <summary>First moment.</summary>
    public float[] M { get; }

    /// <summary>Second moment.</summary>
    public float[] V { get; }

    /// <summary>Updates completed (t in the bias corrections).</summary>
    public int Steps { get; set; }

    /// <summary>One update: m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²; p −= lr (m̂ / (√v̂ + ε) + λ p).</summary>
    public void Update(float[] parameters, float[] gradients, float lr)
    {
        Steps++;
        _p = parameters;
        _g = gradients;
        _lr = lr;
        _b1c = 1f / (1f - MathF.Pow(Options.Beta1, Steps));
        _b2c = 1f / (1f - MathF.Pow(Options.Beta2, Steps));
        _pool.For((parameters.Length + Chunk - 1) / Chunk, 1, _body);
        _p = _g = null;
    }

    private void UpdateRange(int start, int end)
    {
        var p = _p!;
        var g = _g!;
        var m = M;
        var v = V;
        float b1 = Options.Beta1, b2 = Options.Beta2, eps = Options.Epsilon, wd = Options.WeightDecay, lr = _lr, b1c = _b1c, b2c = _b2c;
        int hi = Math.Min(p.Length, end * Chunk);
        for (int i = start * Chunk; i < hi; i++)
        {
            float gi = g[i];
            float mi = m[i] = b1 * m[i] + (1 - b1) * gi;
            float vi = v[i] = b2 * v[i] + (1 - b2) * gi * gi;
            p[i] -= lr * (mi * b1c / (MathF.Sqrt(vi * b2c) + eps) + wd * _decayMask[i] * p[i]);
        }
    }
}
