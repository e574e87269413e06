using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Tensors.Kernels;

/// <summary>
/// Sixteen attention dots at a time in <c>ggml_vec_dot_f32</c>'s order (<see cref="GgmlDot.DotGgml"/>): each dot's four
/// 16-lane accumulators are folded as there, and the sixteen folded vectors are reduced together by a transposed tree
/// that adds exactly the lane pairs <see cref="GgmlDot.ReduceAdd"/> adds, in the same order — so every result equals
/// the one-at-a-time value bit for bit, for about a quarter of the horizontal-reduction work (one head of a decode
/// step: 0.80× the time at 192 positions, 0.87× at 1,024; `AttentionBenchmarks`). AVX-512 only
/// (<see cref="IsSupported"/>); callers keep the one-at-a-time path.
/// </summary>
public static class AttentionDots
{
    /// <summary>Whether the batched kernels run here (AVX-512F).</summary>
    public static bool IsSupported => Avx512F.IsSupported;

    /// <summary>
    /// out[p] = DotGgml(q, keys[p·stride .. +len]) · scale for p &lt; count, where len is a multiple of 64 (so the dot
    /// has no scalar leftovers). The q·k products and folds are those of <see cref="GgmlDot.DotGgml"/>.
    /// </summary>
    public static unsafe void Scores(float* q, float* keys, int stride, int len, int count, float scale, float* output)
    {
        if (len % 64 != 0 || len <= 0)
        {
            throw new ArgumentException("the head size must be a positive multiple of 64", nameof(len));
        }
        var folded = stackalloc Vector512<float>[16];
        var vscale = Vector512.Create(scale);
        int p = 0;
        if (len == 64)
        {
            // The common head size: q stays in four registers (Fold reloads it for every key, since the stores to
            // `folded` could alias it), so a dot is four loads of its key; the same FMAs and folds as Fold.
            Vector512<float> q0 = Vector512.Load(q), q1 = Vector512.Load(q + 16), q2 = Vector512.Load(q + 32), q3 = Vector512.Load(q + 48);
            for (; p + 16 <= count; p += 16)
            {
                for (int j = 0; j < 16; j++)
                {
                    float* k = keys + (long)(p + j) * stride;
                    var s0 = Vector512.FusedMultiplyAdd(q0, Vector512.Load(k), Vector512<float>.Zero);
                    var s1 = Vector512.FusedMultiplyAdd(q1, Vector512.Load(k + 16), Vector512<float>.Zero);
                    var s2 = Vector512.FusedMultiplyAdd(q2, Vector512.Load(k + 32), Vector512<float>.Zero);
                    var s3 = Vector512.FusedMultiplyAdd(q3, Vector512.Load(k + 48), Vector512<float>.Zero);
                    folded[j] = (s0 + s2) + (s1 + s3);
                }
                Vector512.Store(Reduce16(folded) * vscale, output + p);
            }
        }
        for (; p + 16 <= count; p += 16)
        {
            for (int j = 0; j < 16; j++)
            {
                folded[j] = Fold(q, keys + (long)(p + j) * stride, len);
            }
            Vector512.Store(Reduce16(folded) * vscale, output + p);
        }
        for (; p < count; p++)
        {
            output[p] = GgmlDot.ReduceAdd(Fold(q, keys + (long)p * stride, len)) * scale;
        }
    }

    /// <summary>
    /// output[c] = Σ_{i &lt; n} w[i]·values[c·stride + i] for c &lt; channels, in the order of ggml_vec_dot_f32 over
    /// <paramref name="nPad"/> (a multiple of 64) elements with lanes at or past n contributing exactly +0 (values past n
    /// are read and masked, as the attention's transposed V cache has them), plus +0 when n is not a multiple of 64
    /// (the padded dot's convention). <paramref name="w"/> must hold nPad readable elements, each channel nPad.
    /// </summary>
    public static unsafe void WeightedSums(float* values, int stride, int channels, float* w, int n, int nPad, float* output)
    {
        if (nPad % 64 != 0 || nPad < n || n < 1)
        {
            throw new ArgumentException("nPad must be a multiple of 64 covering n ≥ 1", nameof(nPad));
        }
        var folded = stackalloc Vector512<float>[16];
        int c = 0;
        bool tail = (n & 63) != 0;
        for (; c + 16 <= channels; c += 16)
        {
            for (int j = 0; j < 16; j += 4)
            {
                Fold4(values + (long)(c + j) * stride, stride, w, n, folded + j);
            }
            var r = Reduce16(folded);
            if (tail)
            {
                r += Vector512<float>.Zero;
            }
            Vector512.Store(r, output + c);
        }
        for (; c < channels; c++)
        {
            Fold4(values + (long)c * stride, 0, w, n, folded);
            float r = GgmlDot.ReduceAdd(folded[0]);
            output[c] = tail ? r + 0f : r;
        }
    }

    /// <summary>One-at-a-time: Σ_{p &lt; n} w[p]·v[p] in ggml_vec_dot_f32's order over <paramref name="nPad"/> positions (a multiple
    /// of 64), lanes at or past n contributing exactly 0 (stale cache values are read but masked to +0, as the zero
    /// tail of <see cref="GgmlDot.DotGgmlPadded"/> has them). The cache's channel stride is a multiple of 64, so the
    /// reads up to nPad stay inside the channel.</summary>
    public static unsafe float WeightedSum(ReadOnlySpan<float> v, ReadOnlySpan<float> w, int n, int nPad)
    {
        if (v.Length < nPad || w.Length < nPad)
        {
            throw new ArgumentException("attention rows are shorter than the padded length");
        }
        fixed (float* pv = v)
        fixed (float* pw = w)
        {
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            int full = n & ~63;
            for (int i = 0; i < full; i += 64)
            {
                s0 = Vector512.FusedMultiplyAdd(Vector512.Load(pv + i), Vector512.Load(pw + i), s0);
                s1 = Vector512.FusedMultiplyAdd(Vector512.Load(pv + i + 16), Vector512.Load(pw + i + 16), s1);
                s2 = Vector512.FusedMultiplyAdd(Vector512.Load(pv + i + 32), Vector512.Load(pw + i + 32), s2);
                s3 = Vector512.FusedMultiplyAdd(Vector512.Load(pv + i + 48), Vector512.Load(pw + i + 48), s3);
            }
            if (full == n)
            {
                return GgmlDot.ReduceAdd((s0 + s2) + (s1 + s3));
            }
            Vector512<int> lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            Vector512<int> rem = Vector512.Create(n - full);
            float* tv = pv + full, tw = pw + full;
            s0 = Vector512.FusedMultiplyAdd(Masked(tv, lane, rem), Vector512.Load(tw), s0);
            s1 = Vector512.FusedMultiplyAdd(Masked(tv + 16, lane + Vector512.Create(16), rem), Vector512.Load(tw + 16), s1);
            s2 = Vector512.FusedMultiplyAdd(Masked(tv + 32, lane + Vector512.Create(32), rem), Vector512.Load(tw + 32), s2);
            s3 = Vector512.FusedMultiplyAdd(Masked(tv + 48, lane + Vector512.Create(48), rem), Vector512.Load(tw + 48), s3);
            float head = 0; // the earlier code's `DotGgmlPadded(...) + head`, kept for identical signed zeros
            return GgmlDot.ReduceAdd((s0 + s2) + (s1 + s3)) + head;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<float> Masked(float* p, Vector512<int> lane, Vector512<int> n) =>
        Vector512.ConditionalSelect(Vector512.LessThan(lane, n).AsSingle(), Vector512.Load(p), Vector512<float>.Zero);

    /// <summary>(s0+s2)+(s1+s3) of DotGgml's four accumulators over len (a multiple of 64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<float> Fold(float* a, float* b, int len)
    {
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (int i = 0; i < len; i += 64)
        {
            s0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), s0);
            s1 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 16), Vector512.Load(b + i + 16), s1);
            s2 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 32), Vector512.Load(b + i + 32), s2);
            s3 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 48), Vector512.Load(b + i + 48), s3);
        }
        return (s0 + s2) + (s1 + s3);
    }

    /// <summary>The folded accumulators of four channels (rows stride apart; stride 0 = one channel, result in
    /// folded[0]) against w, the loads of w shared: full 64-element steps, then the masked last step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Fold4(float* v, int stride, float* w, int n, Vector512<float>* folded)
    {
        int rows = stride == 0 ? 1 : 4;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default;
        float* va = v, vb = v + stride, vc = v + 2 * stride, vd = v + 3 * stride;
        int full = n & ~63;
        for (int i = 0; i < full; i += 64)
        {
            var w0 = Vector512.Load(w + i);
            var w1 = Vector512.Load(w + i + 16);
            var w2 = Vector512.Load(w + i + 32);
            var w3 = Vector512.Load(w + i + 48);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Load(va + i), w0, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Load(va + i + 16), w1, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Load(va + i + 32), w2, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Load(va + i + 48), w3, a3);
            if (rows == 4)
            {
                b0 = Vector512.FusedMultiplyAdd(Vector512.Load(vb + i), w0, b0);
                b1 = Vector512.FusedMultiplyAdd(Vector512.Load(vb + i + 16), w1, b1);
                b2 = Vector512.FusedMultiplyAdd(Vector512.Load(vb + i + 32), w2, b2);
                b3 = Vector512.FusedMultiplyAdd(Vector512.Load(vb + i + 48), w3, b3);
                c0 = Vector512.FusedMultiplyAdd(Vector512.Load(vc + i), w0, c0);
                c1 = Vector512.FusedMultiplyAdd(Vector512.Load(vc + i + 16), w1, c1);
                c2 = Vector512.FusedMultiplyAdd(Vector512.Load(vc + i + 32), w2, c2);
                c3 = Vector512.FusedMultiplyAdd(Vector512.Load(vc + i + 48), w3, c3);
                d0 = Vector512.FusedMultiplyAdd(Vector512.Load(vd + i), w0, d0);
                d1 = Vector512.FusedMultiplyAdd(Vector512.Load(vd + i + 16), w1, d1);
                d2 = Vector512.FusedMultiplyAdd(Vector512.Load(vd + i + 32), w2, d2);
                d3 = Vector512.FusedMultiplyAdd(Vector512.Load(vd + i + 48), w3, d3);
            }
        }
        if (full != n)
        {
            var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            var rem = Vector512.Create(n - full);
            var m0 = Vector512.LessThan(lane, rem).AsSingle();
            var m1 = Vector512.LessThan(lane + Vector512.Create(16), rem).AsSingle();
            var m2 = Vector512.LessThan(lane + Vector512.Create(32), rem).AsSingle();
            var m3 = Vector512.LessThan(lane + Vector512.Create(48), rem).AsSingle();
            var w0 = Vector512.Load(w + full);
            var w1 = Vector512.Load(w + full + 16);
            var w2 = Vector512.Load(w + full + 32);
            var w3 = Vector512.Load(w + full + 48);
            a0 = Vector512.FusedMultiplyAdd(Masked(va + full, m0), w0, a0);
            a1 = Vector512.FusedMultiplyAdd(Masked(va + full + 16, m1), w1, a1);
            a2 = Vector512.FusedMultiplyAdd(Masked(va + full + 32, m2), w2, a2);
            a3 = Vector512.FusedMultiplyAdd(Masked(va + full + 48, m3), w3, a3);
            if (rows == 4)
            {
                b0 = Vector512.FusedMultiplyAdd(Masked(vb + full, m0), w0, b0);
                b1 = Vector512.FusedMultiplyAdd(Masked(vb + full + 16, m1), w1, b1);
                b2 = Vector512.FusedMultiplyAdd(Masked(vb + full + 32, m2), w2, b2);
                b3 = Vector512.FusedMultiplyAdd(Masked(vb + full + 48, m3), w3, b3);
                c0 = Vector512.FusedMultiplyAdd(Masked(vc + full, m0), w0, c0);
                c1 = Vector512.FusedMultiplyAdd(Masked(vc + full + 16, m1), w1, c1);
                c2 = Vector512.FusedMultiplyAdd(Masked(vc + full + 32, m2), w2, c2);
                c3 = Vector512.FusedMultiplyAdd(Masked(vc + full + 48, m3), w3, c3);
                d0 = Vector512.FusedMultiplyAdd(Masked(vd + full, m0), w0, d0);
                d1 = Vector512.FusedMultiplyAdd(Masked(vd + full + 16, m1), w1, d1);
                d2 = Vector512.FusedMultiplyAdd(Masked(vd + full + 32, m2), w2, d2);
                d3 = Vector512.FusedMultiplyAdd(Masked(vd + full + 48, m3), w3, d3);
            }
        }
        folded[0] = (a0 + a2) + (a1 + a3);
        if (rows == 4)
        {
            folded[1] = (b0 + b2) + (b1 + b3);
            folded[2] = (c0 + c2) + (c1 + c3);
            folded[3] = (d0 + d2) + (d1 + d3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<float> Masked(float* p, Vector512<float> mask) =>
        Vector512.ConditionalSelect(mask, Vector512.Load(p), Vector512<float>.Zero);

    /// <summary>
    /// [ReduceAdd(v[0]), …, ReduceAdd(v[15])]: the halving tree of <see cref="GgmlDot.ReduceAdd"/> run on sixteen
    /// vectors at once — 256-bit halves, then 128-bit halves, then (e0+e2)+(e1+e3) — each addition on the same two
    /// numbers as the one-vector tree (IEEE addition is commutative bit for bit, so only the pairing matters).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe Vector512<float> Reduce16(Vector512<float>* v)
    {
        // Level 1: W_k = [t3 of v[2k] | t3 of v[2k+1]], t3 = upper 256 + lower 256.
        var w0 = Half(v[0], v[1]);
        var w1 = Half(v[2], v[3]);
        var w2 = Half(v[4], v[5]);
        var w3 = Half(v[6], v[7]);
        var w4 = Half(v[8], v[9]);
        var w5 = Half(v[10], v[11]);
        var w6 = Half(v[12], v[13]);
        var w7 = Half(v[14], v[15]);
        // Level 2: X = quads [t6 of four consecutive vectors], t6 = upper 128 + lower 128 of t3.
        var x0 = Quarter(w0, w1);
        var x1 = Quarter(w2, w3);
        var x2 = Quarter(w4, w5);
        var x3 = Quarter(w6, w7);
        // Level 3: per 128-bit lane j: [e0+e2, e1+e3 of vector j (x0) | of vector 4+j (x1)], and of 8+j, 12+j.
        var s0 = Avx512F.Shuffle(x0, x1, 0x44) + Avx512F.Shuffle(x0, x1, 0xEE);
        var s1 = Avx512F.Shuffle(x2, x3, 0x44) + Avx512F.Shuffle(x2, x3, 0xEE);
        // Level 4: (e0+e2)+(e1+e3); lane 4j+i holds vector j+4i.
        var r = Avx512F.Shuffle(s0, s1, 0x88) + Avx512F.Shuffle(s0, s1, 0xDD);
        return Avx512F.PermuteVar16x32(r, Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Half(Vector512<float> a, Vector512<float> b) =>
        Avx512F.Shuffle4x128(a, b, 0x44) + Avx512F.Shuffle4x128(a, b, 0xEE);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Quarter(Vector512<float> a, Vector512<float> b) =>
        Avx512F.Shuffle4x128(a, b, 0x88) + Avx512F.Shuffle4x128(a, b, 0xDD);
}
