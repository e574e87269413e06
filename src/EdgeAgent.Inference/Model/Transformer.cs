using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeAgent.Tensors.Kernels;
using EdgeAgent.Tensors.Threading;

namespace EdgeAgent.Inference.Model;

/// <summary>
/// The forward pass of a Llama-family decoder, top to bottom in the spirit of llama2.c's <c>forward()</c>, for a
/// batch of T consecutive tokens (prefill) or one token (decode). Parameterised by <see cref="ModelConfig"/>:
/// GQA, RoPE style and base, QKV bias (qwen2), QK-norm (qwen3), tied or separate output head.
/// Run state (activation buffers) belongs to the instance: one sequence at a time per instance.
/// </summary>
public sealed class Transformer
{
    private readonly ModelConfig _c;
    private readonly ModelWeights _w;
    private readonly ComputePool _pool;
    private readonly MatMul _matmul;
    private readonly Rope _rope;
    private readonly int _maxBatch;

    // Run state, sized for _maxBatch tokens.
    private readonly float[] _x;     // (T, D) residual stream
    private readonly float[] _xb;    // (T, D) normalised input
    private readonly float[] _q;     // (T, H·Hd)
    private readonly float[] _k;     // (T, K·Hd)
    private readonly float[] _v;     // (T, K·Hd)
    private readonly float[] _att;   // (T, H·Hd) attention output
    private readonly float[] _proj;  // (T, D)
    private readonly float[] _hb;    // (T, F) gate
    private readonly float[] _hb2;   // (T, F) up

    // Attention job state (read by _attentionBody on pool threads).
    private KvCache? _cache;
    private int _layer;
    private int _startPos;
    private int _batch;
    private int _tokenBase; // first token row of the FFN-norm and SwiGLU jobs (the last layer may run only its output rows)
    private readonly RangeBody _attentionBody;
    private readonly RangeBody _attnNormBody;
    private readonly RangeBody _qkvBody;
    private readonly RangeBody _ffnNormBody;
    private readonly RangeBody _swiGluBody;
    private LayerWeights? _layerWeights;

    [ThreadStatic]
    private static float[]? t_scores;

    public Transformer(ModelConfig config, ModelWeights weights, ComputePool pool, int maxContext, int maxBatch = 64)
    {
        _c = config;
        _w = weights;
        _pool = pool;
        _matmul = new MatMul(pool);
        _maxBatch = Math.Max(1, maxBatch);
        _rope = new Rope(config.RopeDim, config.RopeBase, Math.Max(1, maxContext), config.RopeStyle);
        int b = _maxBatch;
        _x = new float[b * config.Dim];
        _xb = new float[b * config.Dim];
        _q = new float[b * config.QDim];
        _k = new float[b * config.KvDim];
        _v = new float[b * config.KvDim];
        _att = new float[b * config.QDim];
        _proj = new float[b * config.Dim];
        _hb = new float[b * config.FfnDim];
        _hb2 = new float[b * config.FfnDim];
        _attentionBody = AttentionRange;
        _attnNormBody = AttnNormRange;
        _qkvBody = QkvRange;
        _ffnNormBody = FfnNormRange;
        _swiGluBody = SwiGluRange;
        MaxContext = maxContext;
    }

    public ModelConfig Config => _c;

    /// <summary>Debugging hook (tests): receives named intermediate tensors of each batch, named as in
    /// llama.cpp's graph (<c>attn_norm-L</c>, <c>kqv_out-L</c>, <c>ffn_inp-L</c>, <c>ffn_swiglu-L</c>, <c>ffn_out-L</c>, <c>l_out-L</c>).</summary>
    internal Action<string, float[], int>? Trace { get; set; }
    public int MaxContext { get; }

    /// <summary>
    /// Runs <paramref name="tokens"/> at positions [cache.Length, cache.Length + T), appending to the cache.
    /// Writes logits of the last token to <paramref name="logits"/> (length V), or of every token (T·V) when
    /// <paramref name="allLogits"/> is set.
    /// </summary>
    public void Forward(ReadOnlySpan<int> tokens, KvCache cache, Span<float> logits, bool allLogits = false)
    {
        int v = _c.VocabSize;
        if (logits.Length < (allLogits ? tokens.Length * v : v))
        {
            throw new ArgumentException("logits buffer is too small");
        }
        if (cache.Length + tokens.Length > Math.Min(cache.Capacity, MaxContext))
        {
            throw new InvalidOperationException($"context full: {cache.Length} + {tokens.Length} tokens exceed the context of {Math.Min(cache.Capacity, MaxContext)}");
        }
        foreach (var t in tokens)
        {
            if ((uint)t >= (uint)v)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), $"token id {t} is outside the vocabulary (0..{v - 1})");
            }
        }
        for (int start = 0; start < tokens.Length; start += _maxBatch)
        {
            int n = Math.Min(_maxBatch, tokens.Length - start);
            bool last = start + n == tokens.Length;
            ForwardBatch(tokens.Slice(start, n), cache, allLogits ? logits.Slice(start * v, n * v) : logits, allLogits ? 0 : (last ? n - 1 : -1));
        }
    }

    /// <param name="logitsFrom">-1: no logits; k ≥ 0: logits of tokens k..T-1 into <paramref name="logits"/>.</param>
    private void ForwardBatch(ReadOnlySpan<int> tokens, KvCache cache, Span<float> logits, int logitsFrom)
    {
        var c = _c;
        int T = tokens.Length, D = c.Dim, QD = c.QDim, KD = c.KvDim, F = c.FfnDim;
        int pos0 = cache.Length;

        // x = token_embd[tokens]                                   (T, D)
        for (int t = 0; t < T; t++)
        {
            _w.TokenEmbedding.DequantizeRow(tokens[t], _x.AsSpan(t * D, D));
        }

        for (int l = 0; l < c.Layers; l++)
        {
            var L = _w.Layers[l];

            // xb = rmsnorm(x) · attn_norm                            (T, D)
            _layerWeights = L;
            _cache = cache;
            _layer = l;
            _startPos = pos0;
            _batch = T;
            ForTokens(T, _attnNormBody);

            Trace?.Invoke($"attn_norm-{l}", _xb, T * D);

            // The last layer needs every token's k and v (the cache) but the rest only for the tokens whose logits are
            // asked for: rows [T − keep, T) (llama.cpp does the same). Their values are the same bit for bit (every
            // kernel here gives a row the same result whatever the batch). A trace wants every row: no skipping then.
            int keep = l == c.Layers - 1 && Trace is null ? (logitsFrom < 0 ? 0 : T - logitsFrom) : T;
            int first = T - keep;

            // q = Wq·xb (+bq), k = Wk·xb (+bk), v = Wv·xb (+bv)      (T, H·Hd), (T, K·Hd), (T, K·Hd)
            if (keep == T)
            {
                _matmul.Forward(_xb, T, L.Wq, _q, QD, L.Wk, _k, KD, L.Wv, _v, KD);
            }
            else
            {
                _matmul.Forward(_xb, T, L.Wk, _k, KD, L.Wv, _v, KD);
                if (keep > 0)
                {
                    _matmul.Forward(L.Wq, _xb.AsSpan(first * D, keep * D), _q.AsSpan(first * QD, keep * QD), keep, QD);
                }
            }
            ForTokens(T, _qkvBody); // rows of q below `first` hold stale values: roped, never read

            Trace?.Invoke($"Qcur-{l}", _q, T * QD);
            Trace?.Invoke($"Kcur-{l}", _k, T * KD);
            Trace?.Invoke($"Vcur-{l}", _v, T * KD);
            if (keep == 0)
            {
                continue;
            }

            // att = softmax(q·Kᵀ/√Hd, causal) · V   per (token, head)  (T, H·Hd); items run latest tokens first, so
            // keep·H items are the last `keep` tokens.
            _pool.For(keep * c.Heads, ItemGrain(keep * c.Heads), _attentionBody);

            Trace?.Invoke($"kqv_out-{l}", _att, T * QD);
            // x += Wo·att                                             (T, D)
            var x = _x.AsSpan(first * D, keep * D);
            var proj = _proj.AsSpan(first * D, keep * D);
            _matmul.Forward(L.Wo, _att.AsSpan(first * QD, keep * QD), proj, keep, D);
            TensorPrimitives.Add(x, proj, x);
            Trace?.Invoke($"ffn_inp-{l}", _x, T * D);

            // xb = rmsnorm(x) · ffn_norm; x += Wdown·(silu(Wgate·xb) ⊙ (Wup·xb))
            _tokenBase = first;
            ForTokens(keep, _ffnNormBody);
            _matmul.Forward(
                _xb.AsSpan(first * D, keep * D), keep,
                L.WGate, _hb.AsSpan(first * F, keep * F), F,
                L.WUp, _hb2.AsSpan(first * F, keep * F), F);
            ForTokens(keep, _swiGluBody);
            _tokenBase = 0;
            Trace?.Invoke($"ffn_swiglu-{l}", _hb, T * F);
            _matmul.Forward(L.WDown, _hb.AsSpan(first * F, keep * F), proj, keep, D);
            Trace?.Invoke($"ffn_out-{l}", _proj, T * D);
            TensorPrimitives.Add(x, proj, x);
            Trace?.Invoke($"l_out-{l}", _x, T * D);
        }
        _cache = null;
        _layerWeights = null;
        cache.Length = pos0 + T;

        if (logitsFrom < 0)
        {
            return;
        }
        // logits = Wout · rmsnorm(x) · output_norm                   (T', V)
        int n = T - logitsFrom;
        for (int t = 0; t < n; t++)
        {
            RmsNorm.Apply(_x.AsSpan((logitsFrom + t) * D, D), _w.OutputNorm, _xb.AsSpan(t * D, D), c.RmsEps);
        }
        _matmul.Forward(_w.Output, _xb.AsSpan(0, n * D), logits, n, c.VocabSize);
    }

    /// <summary>A per-token step over the batch: spread over the pool in prefill, inline for one token.</summary>
    private void ForTokens(int tokens, RangeBody body)
    {
        if (tokens > 1 && _pool.ThreadCount > 1)
        {
            // One share per thread, as MatMul splits a prefill batch (multiples of 8 tokens): the thread that wrote
            // a token's rows usually reads them next (the caller claims first), so they stay in its cache.
            int share = (tokens + _pool.ThreadCount - 1) / _pool.ThreadCount;
            _pool.For(tokens, tokens >= 16 ? (share + 7) & ~7 : ItemGrain(tokens), body);
        }
        else
        {
            body(0, tokens);
        }
    }

    /// <summary>
    /// Items per claim for a job of <paramref name="count"/> small items (tokens, heads): about eight claims per thread.
    /// One item per claim made a 128-token prefill take ~60,000 claims on the pool's shared counter, and each claim
    /// moves that cache line between the cores — cheap when the two cores share a cache, dear when the virtual
    /// machine's cores sit farther apart (a round trip of 340-390 ns instead of 80-100: 2-thread prefill was then 1.26×
    /// one thread's instead of 1.85×; these grains gave +9 % there, +2-3 % otherwise; docs/performance.md).
    /// </summary>
    private int ItemGrain(int count) => Math.Max(1, count / (_pool.ThreadCount * 8));

    private void AttnNormRange(int start, int end)
    {
        int D = _c.Dim;
        for (int t = start; t < end; t++)
        {
            RmsNorm.Apply(_x.AsSpan(t * D, D), _layerWeights!.AttnNorm, _xb.AsSpan(t * D, D), _c.RmsEps);
        }
    }

    private void FfnNormRange(int start, int end)
    {
        int D = _c.Dim;
        for (int t = _tokenBase + start; t < _tokenBase + end; t++)
        {
            RmsNorm.Apply(_x.AsSpan(t * D, D), _layerWeights!.FfnNorm, _xb.AsSpan(t * D, D), _c.RmsEps);
        }
    }

    private void SwiGluRange(int start, int end)
    {
        int F = _c.FfnDim;
        for (int t = _tokenBase + start; t < _tokenBase + end; t++)
        {
            SwiGlu.Apply(_hb.AsSpan(t * F, F), _hb2.AsSpan(t * F, F));
        }
    }

    /// <summary>Per token: biases, QK-norm, RoPE at its position, then k and v into the cache.</summary>
    private void QkvRange(int start, int end)
    {
        var c = _c;
        var L = _layerWeights!;
        var cache = _cache!;
        int QD = c.QDim, KD = c.KvDim, l = _layer, pos0 = _startPos;
        for (int t = start; t < end; t++)
        {
            var q = _q.AsSpan(t * QD, QD);
            var k = _k.AsSpan(t * KD, KD);
            var vv = _v.AsSpan(t * KD, KD);
            if (L.Bq is not null)
            {
                TensorPrimitives.Add(q, L.Bq, q);
                TensorPrimitives.Add(k, L.Bk!, k);
                TensorPrimitives.Add(vv, L.Bv!, vv);
            }
            if (L.QNorm is not null)
            {
                // qwen3: RMSNorm over each head of q and k before RoPE.
                for (int h = 0; h < c.Heads; h++)
                {
                    var qh = q.Slice(h * c.HeadDim, c.HeadDim);
                    RmsNorm.Apply(qh, L.QNorm, qh, c.RmsEps);
                }
                for (int h = 0; h < c.KvHeads; h++)
                {
                    var kh = k.Slice(h * c.HeadDim, c.HeadDim);
                    RmsNorm.Apply(kh, L.KNorm!, kh, c.RmsEps);
                }
            }
            // RoPE on q and k at position pos0 + t, then k, v into the cache.
            _rope.Apply(q, c.Heads, c.HeadDim, pos0 + t);
            _rope.Apply(k, c.KvHeads, c.HeadDim, pos0 + t);
            k.CopyTo(cache.Key(l, pos0 + t));
            cache.StoreValue(l, pos0 + t, vv);
        }
    }

    private unsafe void AttentionRange(int start, int end)
    {
        var c = _c;
        var cache = _cache!;
        int hd = c.HeadDim, group = c.Heads / c.KvHeads, kd = c.KvDim;
        float scale = 1f / MathF.Sqrt(hd);
        for (int item = start; item < end; item++)
        {
            // Latest tokens first: under the causal mask their rows are the longest, so the claims end on short ones.
            int t = _batch - 1 - (item / c.Heads), h = item % c.Heads;
            int n = _startPos + t + 1;              // causal: positions 0..pos
            int nPad = (n + 63) & ~63;              // whole 64-element steps; the padding is masked to −∞ → 0
            var scores = t_scores is { } s && s.Length >= nPad ? s : (t_scores = new float[Math.Max(nPad, 256)]);
            var q = _q.AsSpan(t * c.QDim + h * hd, hd);
            var keys = cache.Keys(_layer, n);
            int kvOff = h / group * hd;
            if (AttentionDots.IsSupported && hd % 64 == 0)
            {
                // The same dots, sixteen at a time (AttentionDots: bit-identical to the loop below).
                fixed (float* pq = q, pk = keys, ps = scores, po = _att.AsSpan(t * c.QDim + h * hd, hd),
                       pv = cache.ValueChannels(_layer, kvOff, hd))
                {
                    AttentionDots.Scores(pq, pk + kvOff, kd, hd, n, scale, ps);
                    scores.AsSpan(n, nPad - n).Fill(float.NegativeInfinity);
                    Softmax.InPlace(scores.AsSpan(0, nPad));
                    AttentionDots.WeightedSums(pv, cache.Stride, hd, ps, n, nPad, po);
                }
                continue;
            }
            // scores = q·k_p · 1/√Hd, then softmax (llama.cpp: kq = k·q, soft_max_ext(kq, mask, scale)).
            for (int p = 0; p < n; p++)
            {
                scores[p] = GgmlDot.DotGgml(q, keys.Slice(p * kd + kvOff, hd)) * scale;
            }
            scores.AsSpan(n, nPad - n).Fill(float.NegativeInfinity);
            var sc = scores.AsSpan(0, nPad);
            Softmax.InPlace(sc);
            // o[d] = Σ_p softmax_p · v_p[d], one dot over positions per channel (V is stored transposed).
            var o = _att.AsSpan(t * c.QDim + h * hd, hd);
            for (int d = 0; d < hd; d++)
            {
                var channel = cache.ValueChannel(_layer, kvOff + d);
                o[d] = AttentionDots.WeightedSum(channel, sc, n, nPad);
            }
        }
    }
}
