using System.Numerics;
using System.Numerics.Tensors;
using EdgeAgent.Tensors.Threading;
using EdgeAgent.Training.Kernels;
using EdgeAgent.Training.Ops;

namespace EdgeAgent.Training.Model;

/// <summary>
/// The llama forward pass with every activation the backward pass needs kept, and the backward pass written by hand
/// beside it (llm.c's <c>gpt2_forward</c>/<c>gpt2_backward</c>). Works on B sequences of S tokens at once
/// (N = B·S rows). Generic over the element type so the gradient checks can run the very same code in float64;
/// training uses float32. All buffers are allocated here once: a step allocates nothing.
/// Shape letters: D dim, H heads, K kv heads, Hd head size, F ffn, V vocabulary, L layers.
/// </summary>
public sealed class TrainableTransformer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ModelShape _s;
    private readonly ParameterLayout _layout;
    private readonly Gemm _gemm;
    private readonly ComputePool _pool;
    private readonly RopeOp<T> _rope;

    // Saved activations, per layer where they differ.
    private readonly T[][] _resIn;    // L+1 × (N, D): residual stream entering each block; [L] = final
    private readonly T[][] _rstd1, _xn1, _q, _k, _v, _probs, _att, _resMid, _rstd2, _xn2, _gate, _up, _h;
    private readonly T[] _rstdF;      // (N)
    private readonly T[] _xnF;        // (N, D)
    private readonly T[] _logits;     // (N, V): logits after Forward, their gradient after a loss

    // Gradient scratch.
    private readonly T[] _dRes, _dXn, _dAtt, _dq, _dk, _dv, _dGate, _dUp, _dH, _dNormScratch;
    private readonly T[] _wT, _dyT, _xT;

    private readonly int[] _tokens;
    private readonly int[] _targets;
    private readonly double[] _rowLoss;

    // Parallel job state.
    private int _layer;
    private T _lossScale;
    private bool _lossGrad;
    private T[]? _teacher;
    private T _temperature;
    private KlDirection _klDirection;
    private readonly RangeBody _attnForward, _attnBackward, _ceBody, _klBody;
    private readonly T[][] _klScratch;

    public TrainableTransformer(ModelShape shape, int batch, int seqLen, ComputePool pool)
    {
        shape.Validate();
        if (seqLen < 1 || seqLen > shape.ContextLength || batch < 1)
        {
            throw new ArgumentException($"sequence length {seqLen} must be in 1..{shape.ContextLength} and the batch positive");
        }
        _s = shape;
        _layout = new ParameterLayout(shape);
        _pool = pool;
        _gemm = new Gemm(pool);
        _rope = new RopeOp<T>(shape.HeadDim, shape.RopeBase, shape.ContextLength);
        Batch = batch;
        SeqLen = seqLen;
        int n = batch * seqLen, D = shape.Dim, F = shape.FfnDim, V = shape.VocabSize, QD = shape.QDim, KD = shape.KvDim, L = shape.Layers;
        Parameters = new T[_layout.Count];
        Gradients = new T[_layout.Count];
        T[][] PerLayer(int length, int count = 0) => Enumerable.Range(0, count == 0 ? L : count).Select(_ => new T[length]).ToArray();
        _resIn = PerLayer(n * D, L + 1);
        _rstd1 = PerLayer(n);
        _xn1 = PerLayer(n * D);
        _q = PerLayer(n * QD);
        _k = PerLayer(n * KD);
        _v = PerLayer(n * KD);
        _probs = PerLayer(batch * shape.Heads * seqLen * seqLen);
        _att = PerLayer(n * QD);
        _resMid = PerLayer(n * D);
        _rstd2 = PerLayer(n);
        _xn2 = PerLayer(n * D);
        _gate = PerLayer(n * F);
        _up = PerLayer(n * F);
        _h = PerLayer(n * F);
        _rstdF = new T[n];
        _xnF = new T[n * D];
        _logits = new T[n * V];
        _dRes = new T[n * D];
        _dXn = new T[n * D];
        _dAtt = new T[n * QD];
        _dq = new T[n * QD];
        _dk = new T[n * KD];
        _dv = new T[n * KD];
        _dGate = new T[n * F];
        _dUp = new T[n * F];
        _dH = new T[n * F];
        _dNormScratch = new T[D];
        int maxOut = Math.Max(Math.Max(V, F), Math.Max(D, QD));
        _wT = new T[Math.Max((long)V * D, Math.Max((long)F * D, (long)QD * D)) is var w && w <= Array.MaxLength ? (int)w : throw new ArgumentException("matrix too large")];
        _dyT = new T[maxOut * n];
        _xT = new T[Math.Max(Math.Max(D, F), QD) * n];
        _tokens = new int[n];
        _targets = new int[n];
        _rowLoss = new double[n];
        _klScratch = Enumerable.Range(0, pool.ThreadCount + 1).Select(_ => new T[2 * V]).ToArray();
        _attnForward = AttentionForwardRange;
        _attnBackward = AttentionBackwardRange;
        _ceBody = CrossEntropyRange;
        _klBody = KlRange;
    }

    public ModelShape Shape => _s;
    public ParameterLayout Layout => _layout;
    public int Batch { get; }
    public int SeqLen { get; }
    public int Rows => Batch * SeqLen;

    /// <summary>The flat parameter vector (see <see cref="ParameterLayout"/>).</summary>
    public T[] Parameters { get; }

    /// <summary>Gradients, same layout; <see cref="Backward"/> adds to them (call <see cref="ZeroGradients"/> first).</summary>
    public T[] Gradients { get; }

    /// <summary>Logits (N, V) after <see cref="Forward"/>; the gradient of the loss after a loss call.</summary>
    public T[] Logits => _logits;

    public void ZeroGradients() => Array.Clear(Gradients);

    /// <summary>Activations kept by the last forward pass, for the compression hooks: the inputs of every linear layer.</summary>
    internal (T[] AttnIn, T[] AttOut, T[] FfnIn, T[] FfnHidden) LayerInputs(int layer) => (_xn1[layer], _att[layer], _xn2[layer], _h[layer]);

    internal T[] OutputInput => _xnF;

    /// <summary>Forward pass over <see cref="Rows"/> tokens (B sequences of S); positions restart at 0 per sequence.</summary>
    public void Forward(ReadOnlySpan<int> tokens)
    {
        var s = _s;
        int n = Rows, S = SeqLen, D = s.Dim, F = s.FfnDim, QD = s.QDim, KD = s.KvDim, V = s.VocabSize;
        if (tokens.Length != n)
        {
            throw new ArgumentException($"expected {n} tokens, got {tokens.Length}");
        }
        foreach (int t in tokens)
        {
            if ((uint)t >= (uint)V)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), $"token id {t} is outside the vocabulary (0..{V - 1})");
            }
        }
        tokens.CopyTo(_tokens);
        var P = Parameters.AsSpan();
        T eps = T.CreateChecked(s.RmsEps);

        // x = token_embd[tokens]                                             (N, D)
        EmbeddingOp.Forward<T>(P.Slice(_layout.Embedding, V * D), tokens, _resIn[0], D);
        for (int l = 0; l < s.Layers; l++)
        {
            var w = _layout.Layers[l];
            // xn1 = rmsnorm(x) · attn_norm                                   (N, D)
            RmsNormOp.Forward<T>(_resIn[l], P.Slice(w.AttnNorm, D), _xn1[l], _rstd1[l], n, D, eps);
            // q = xn1·Wqᵀ, k = xn1·Wkᵀ, v = xn1·Wvᵀ                           (N, QD), (N, KD), (N, KD)
            Linear(_xn1[l], w.Wq, _q[l], n, D, QD);
            Linear(_xn1[l], w.Wk, _k[l], n, D, KD);
            Linear(_xn1[l], w.Wv, _v[l], n, D, KD);
            // q, k = rope(q), rope(k)
            _rope.Forward(_q[l], n, s.Heads, s.HeadDim, S);
            _rope.Forward(_k[l], n, s.KvHeads, s.HeadDim, S);
            // att = softmax(q·kᵀ/√Hd, causal)·v                               (N, QD)
            _layer = l;
            _pool.For(Batch * s.Heads, 1, _attnForward);
            // resMid = x + att·Woᵀ                                           (N, D)
            Linear(_att[l], w.Wo, _resMid[l], n, QD, D);
            TensorPrimitives.Add<T>(_resMid[l], _resIn[l], _resMid[l]);
            // xn2 = rmsnorm(resMid) · ffn_norm
            RmsNormOp.Forward<T>(_resMid[l], P.Slice(w.FfnNorm, D), _xn2[l], _rstd2[l], n, D, eps);
            // gate = xn2·Wgateᵀ, up = xn2·Wupᵀ, h = silu(gate) ⊙ up          (N, F)
            Linear(_xn2[l], w.WGate, _gate[l], n, D, F);
            Linear(_xn2[l], w.WUp, _up[l], n, D, F);
            SwiGluOp.Forward<T>(_gate[l], _up[l], _h[l]);
            // x' = resMid + h·Wdownᵀ                                          (N, D)
            Linear(_h[l], w.WDown, _resIn[l + 1], n, F, D);
            TensorPrimitives.Add<T>(_resIn[l + 1], _resMid[l], _resIn[l + 1]);
        }
        // xnF = rmsnorm(x) · output_norm; logits = xnF·Woutᵀ                  (N, V)
        RmsNormOp.Forward<T>(_resIn[s.Layers], P.Slice(_layout.OutputNorm, D), _xnF, _rstdF, n, D, eps);
        Linear(_xnF, _layout.Output, _logits, n, D, V);
    }

    /// <summary>
    /// Mean cross-entropy of the logits of the last <see cref="Forward"/> against <paramref name="targets"/>
    /// (negative = ignored): returns (sum of losses, counted rows). With <paramref name="gradScale"/> set, the logits
    /// are replaced by d(gradScale · Σ loss)/dlogits, ready for <see cref="Backward"/>.
    /// </summary>
    public (double Sum, int Count) CrossEntropy(ReadOnlySpan<int> targets, T? gradScale)
    {
        if (targets.Length != Rows)
        {
            throw new ArgumentException($"expected {Rows} targets, got {targets.Length}");
        }
        int count = 0;
        for (int i = 0; i < targets.Length; i++)
        {
            if (targets[i] >= _s.VocabSize)
            {
                throw new ArgumentOutOfRangeException(nameof(targets), $"target {targets[i]} is outside the vocabulary");
            }
            count += targets[i] >= 0 ? 1 : 0;
        }
        targets.CopyTo(_targets);
        _lossGrad = gradScale is not null;
        _lossScale = gradScale ?? T.Zero;
        _pool.For(Rows, 16, _ceBody);
        double sum = 0;
        for (int i = 0; i < Rows; i++)
        {
            sum += _rowLoss[i];
        }
        return (sum, count);
    }

    /// <summary>Distillation loss (τ²·KL per row, see <see cref="KlDivergenceOp"/>) against teacher logits (N, V); replaces
    /// the logits by the gradient of gradScale · Σ loss. Returns the sum over rows.</summary>
    public double KlDivergence(T[] teacherLogits, T temperature, KlDirection direction, T gradScale)
    {
        if (teacherLogits.Length < _logits.Length)
        {
            throw new ArgumentException("teacher logits must be (rows, vocabulary)");
        }
        _teacher = teacherLogits;
        _temperature = temperature;
        _klDirection = direction;
        _lossScale = gradScale;
        _pool.For(Rows, Math.Max(1, (Rows + _klScratch.Length - 1) / _klScratch.Length), _klBody);
        _teacher = null;
        double sum = 0;
        for (int i = 0; i < Rows; i++)
        {
            sum += _rowLoss[i];
        }
        return sum;
    }

    /// <summary>Backward pass from the logits gradient left by a loss call; adds every parameter's gradient to
    /// <see cref="Gradients"/>.</summary>
    public void Backward()
    {
        var s = _s;
        int n = Rows, S = SeqLen, D = s.Dim, F = s.FfnDim, QD = s.QDim, KD = s.KvDim, V = s.VocabSize;
        var P = Parameters.AsSpan();
        var G = Gradients.AsSpan();

        // forward: logits = xnF·Woutᵀ   →   dxnF = dlogits·Wout,  dWout += dlogitsᵀ·xnF
        LinearBackward(_logits, _xnF, _layout.Output, _dXn, n, D, V, accumulateDx: false, xIsTransposed: false);
        // forward: xnF = rmsnorm(x) · output_norm   →   dx (the residual gradient starts here)
        Array.Clear(_dRes);
        RmsNormOp.Backward<T>(_dXn, _resIn[s.Layers], P.Slice(_layout.OutputNorm, D), _rstdF, _dRes, G.Slice(_layout.OutputNorm, D), _dNormScratch, n, D);

        for (int l = s.Layers - 1; l >= 0; l--)
        {
            var w = _layout.Layers[l];
            // forward: x' = resMid + h·Wdownᵀ   →   dh = dx'·Wdown,  dWdown += dx'ᵀ·h,  dresMid = dx' (kept in _dRes)
            LinearBackward(_dRes, _h[l], w.WDown, _dH, n, F, D, accumulateDx: false, xIsTransposed: false);
            // forward: h = silu(gate) ⊙ up
            SwiGluOp.Backward<T>(_dH, _gate[l], _up[l], _dGate, _dUp);
            // forward: gate = xn2·Wgateᵀ, up = xn2·Wupᵀ   →   dxn2 = dgate·Wgate + dup·Wup
            _gemm.Transpose(_xn2[l], D, _xT, n, n, D);
            LinearBackward(_dGate, _xT, w.WGate, _dXn, n, D, F, accumulateDx: false, xIsTransposed: true);
            LinearBackward(_dUp, _xT, w.WUp, _dXn, n, D, F, accumulateDx: true, xIsTransposed: true);
            // forward: xn2 = rmsnorm(resMid) · ffn_norm   →   dresMid += rmsnorm backward
            RmsNormOp.Backward<T>(_dXn, _resMid[l], P.Slice(w.FfnNorm, D), _rstd2[l], _dRes, G.Slice(w.FfnNorm, D), _dNormScratch, n, D);
            // forward: resMid = x + att·Woᵀ   →   datt = dresMid·Wo,  dWo += dresMidᵀ·att,  dx = dresMid (kept)
            LinearBackward(_dRes, _att[l], w.Wo, _dAtt, n, QD, D, accumulateDx: false, xIsTransposed: false);
            // forward: att = softmax(q·kᵀ/√Hd, causal)·v   →   dq, dk, dv
            _layer = l;
            _pool.For(Batch * s.KvHeads, 1, _attnBackward);
            // forward: q, k = rope(q), rope(k)
            _rope.Backward(_dq, n, s.Heads, s.HeadDim, S);
            _rope.Backward(_dk, n, s.KvHeads, s.HeadDim, S);
            // forward: q = xn1·Wqᵀ, k = xn1·Wkᵀ, v = xn1·Wvᵀ   →   dxn1 = dq·Wq + dk·Wk + dv·Wv
            _gemm.Transpose(_xn1[l], D, _xT, n, n, D);
            LinearBackward(_dq, _xT, w.Wq, _dXn, n, D, QD, accumulateDx: false, xIsTransposed: true);
            LinearBackward(_dk, _xT, w.Wk, _dXn, n, D, KD, accumulateDx: true, xIsTransposed: true);
            LinearBackward(_dv, _xT, w.Wv, _dXn, n, D, KD, accumulateDx: true, xIsTransposed: true);
            // forward: xn1 = rmsnorm(x) · attn_norm   →   dx += rmsnorm backward
            RmsNormOp.Backward<T>(_dXn, _resIn[l], P.Slice(w.AttnNorm, D), _rstd1[l], _dRes, G.Slice(w.AttnNorm, D), _dNormScratch, n, D);
        }
        // forward: x = token_embd[tokens]   →   dtoken_embd[tokens] += dx
        EmbeddingOp.Backward<T>(_dRes, _tokens.AsSpan(0, n), G.Slice(_layout.Embedding, V * D), D);
    }

    /// <summary>y (n, out) = x (n, in) · Wᵀ, W the (out, in) slice of the parameters at <paramref name="offset"/>.</summary>
    private void Linear(T[] x, int offset, T[] y, int n, int inDim, int outDim) =>
        _gemm.ABt<T>(x, inDim, Parameters.AsSpan(offset, outDim * inDim), inDim, y, outDim, n, outDim, inDim, accumulate: false);

    /// <summary>
    /// Backward of y = x·Wᵀ: dx (+)= dy·W (as dy·(Wᵀ)ᵀ) and dW += dyᵀ·x (as (dyᵀ)·(xᵀ)ᵀ). <paramref name="x"/> is the
    /// saved input, or its transpose (in, n) when <paramref name="xIsTransposed"/>.
    /// </summary>
    private void LinearBackward(T[] dy, T[] x, int offset, T[] dx, int n, int inDim, int outDim, bool accumulateDx, bool xIsTransposed)
    {
        // dx = dy · W
        _gemm.Transpose(Parameters, inDim, _wT, outDim, outDim, inDim, offset);
        _gemm.ABt<T>(dy, outDim, _wT, outDim, dx, inDim, n, inDim, outDim, accumulateDx);
        // dW += dyᵀ · x
        _gemm.Transpose(dy, outDim, _dyT, n, n, outDim);
        var xT = x;
        if (!xIsTransposed)
        {
            _gemm.Transpose(x, inDim, _xT, n, n, inDim);
            xT = _xT;
        }
        _gemm.ABt<T>(_dyT, n, xT, n, Gradients.AsSpan(offset, outDim * inDim), inDim, outDim, inDim, n, accumulate: true);
    }

    private void AttentionForwardRange(int start, int end)
    {
        var s = _s;
        int l = _layer;
        for (int item = start; item < end; item++)
        {
            CausalAttentionOp.Forward<T>(_q[l], _k[l], _v[l], _probs[l], _att[l], item / s.Heads, item % s.Heads, SeqLen, s.Heads, s.KvHeads, s.HeadDim);
        }
    }

    private void AttentionBackwardRange(int start, int end)
    {
        var s = _s;
        int l = _layer;
        for (int item = start; item < end; item++)
        {
            CausalAttentionOp.Backward<T>(_dAtt, _q[l], _k[l], _v[l], _probs[l], _dq, _dk, _dv, item / s.KvHeads, item % s.KvHeads, SeqLen, s.Heads, s.KvHeads, s.HeadDim);
        }
    }

    private void CrossEntropyRange(int start, int end)
    {
        int v = _s.VocabSize;
        for (int r = start; r < end; r++)
        {
            _rowLoss[r] = CrossEntropyOp.Rows<T>(_logits, _targets, v, r, r + 1, _lossScale, _lossGrad);
        }
    }

    private void KlRange(int start, int end)
    {
        int v = _s.VocabSize;
        // Chunks are fixed by the row count and thread count, so each chunk owns one scratch row.
        int chunk = Math.Max(1, (Rows + _klScratch.Length - 1) / _klScratch.Length);
        var scratch = _klScratch[start / chunk];
        for (int r = start; r < end; r++)
        {
            _rowLoss[r] = KlDivergenceOp.Rows<T>(_logits, _teacher!, v, r, r + 1, _temperature, _klDirection, _lossScale, scratch);
        }
    }
}
