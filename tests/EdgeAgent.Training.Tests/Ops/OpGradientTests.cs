using EdgeAgent.Training.Ops;

namespace EdgeAgent.Training.Tests.Ops;

/// <summary>Finite-difference checks of every op's backward, run in float64 through the same generic code that
/// trains in float32. Each op's loss is ⟨r, y⟩ for a fixed random r, so dy = r.</summary>
public sealed class OpGradientTests
{
    [Fact]
    public void RmsNorm()
    {
        const int rows = 3, d = 7;
        var x = GradCheck.Random(rows * d, 1);
        var w = GradCheck.Random(d, 2);
        var r = GradCheck.Random(rows * d, 3);
        double Loss()
        {
            var y = new double[rows * d];
            RmsNormOp.Forward<double>(x, w, y, new double[rows], rows, d, 1e-5);
            return GradCheck.Dot(y, r);
        }
        var rstd = new double[rows];
        RmsNormOp.Forward<double>(x, w, new double[rows * d], rstd, rows, d, 1e-5);
        var dx = new double[rows * d];
        var dw = new double[d];
        RmsNormOp.Backward<double>(r, x, w, rstd, dx, dw, new double[d], rows, d);
        GradCheck.Check("dx", x, dx, Loss);
        GradCheck.Check("dw", w, dw, Loss);
    }

    [Fact]
    public void Rope()
    {
        const int seq = 5, rows = 10, heads = 3, hd = 6;
        var rope = new RopeOp<double>(hd, 10000, seq);
        var x = GradCheck.Random(rows * heads * hd, 4);
        var r = GradCheck.Random(x.Length, 5);
        double Loss()
        {
            var y = (double[])x.Clone();
            rope.Forward(y, rows, heads, hd, seq);
            return GradCheck.Dot(y, r);
        }
        var dx = (double[])r.Clone();
        rope.Backward(dx, rows, heads, hd, seq);
        GradCheck.Check("dx", x, dx, Loss);
    }

    [Fact]
    public void RopeMatchesTheEngineConvention()
    {
        // The engine's kernel (ggml-exact) rotates adjacent pairs; ours (tables in double) must give the same numbers to
        // float precision (the engine's θ recurrence rounds each step, hence a few ulps).
        const int hd = 8, heads = 2, pos = 7;
        var engine = new EdgeAgent.Tensors.Kernels.Rope(hd, 10000f, 16, EdgeAgent.Tensors.Kernels.RopeStyle.Normal);
        var ours = new RopeOp<float>(hd, 10000, 16);
        var a = GradCheck.Random(heads * hd, 6).Select(v => (float)v).ToArray();
        var rows = new float[8 * heads * hd];
        a.CopyTo(rows, pos * heads * hd);
        ours.Forward(rows, 8, heads, hd, 16);
        engine.Apply(a, heads, hd, pos);
        for (int i = 0; i < a.Length; i++)
        {
            Assert.True(Math.Abs(a[i] - rows[pos * heads * hd + i]) < 1e-5f, $"{i}: engine {a[i]} vs ours {rows[pos * heads * hd + i]}");
        }
    }

    [Fact]
    public void SwiGlu()
    {
        var g = GradCheck.Random(20, 7, 4);
        var u = GradCheck.Random(20, 8, 2);
        var r = GradCheck.Random(20, 9);
        double Loss()
        {
            var h = new double[20];
            SwiGluOp.Forward<double>(g, u, h);
            return GradCheck.Dot(h, r);
        }
        var dg = new double[20];
        var du = new double[20];
        SwiGluOp.Backward<double>(r, g, u, dg, du);
        GradCheck.Check("dgate", g, dg, Loss);
        GradCheck.Check("dup", u, du, Loss);
    }

    [Fact]
    public void Embedding()
    {
        const int v = 5, d = 3;
        int[] tokens = [1, 4, 1, 0];
        var table = GradCheck.Random(v * d, 10);
        var r = GradCheck.Random(tokens.Length * d, 11);
        double Loss()
        {
            var x = new double[tokens.Length * d];
            EmbeddingOp.Forward<double>(table, tokens, x, d);
            return GradCheck.Dot(x, r);
        }
        var dt = new double[v * d];
        EmbeddingOp.Backward<double>(r, tokens, dt, d);
        GradCheck.Check("dtable", table, dt, Loss);
        Assert.All(dt.AsSpan(2 * d, 2 * d).ToArray(), g => Assert.Equal(0, g));   // tokens 2 and 3 unused
    }

    [Fact]
    public void CrossEntropy()
    {
        const int rows = 4, v = 9;
        int[] targets = [3, 0, -1, 8];
        var z = GradCheck.Random(rows * v, 12, 3);
        double Loss() => CrossEntropyOp.Rows<double>((double[])z.Clone(), targets, v, 0, rows, 1, grad: false);
        var grad = (double[])z.Clone();
        double withGrad = CrossEntropyOp.Rows<double>(grad, targets, v, 0, rows, 1, grad: true);
        Assert.Equal(Loss(), withGrad, 12);
        GradCheck.Check("dlogits", z, grad, Loss);
        Assert.All(grad.AsSpan(2 * v, v).ToArray(), g => Assert.Equal(0, g));   // the ignored row
    }

    [Theory]
    [InlineData(KlDirection.Forward, 1.0)]
    [InlineData(KlDirection.Forward, 2.0)]
    [InlineData(KlDirection.Reverse, 1.0)]
    [InlineData(KlDirection.Reverse, 2.5)]
    public void KlDivergence(KlDirection direction, double temperature)
    {
        const int rows = 3, v = 7;
        var z = GradCheck.Random(rows * v, 13, 3);
        var teacher = GradCheck.Random(rows * v, 14, 3);
        var scratch = new double[2 * v];
        double Loss() => KlDivergenceOp.Rows<double>((double[])z.Clone(), teacher, v, 0, rows, temperature, direction, 1, scratch);
        var grad = (double[])z.Clone();
        double loss = KlDivergenceOp.Rows<double>(grad, teacher, v, 0, rows, temperature, direction, 1, scratch);
        Assert.True(loss > 0);
        GradCheck.Check("dlogits", z, grad, Loss);
        // KL of a distribution against itself is zero.
        var same = (double[])teacher.Clone();
        Assert.Equal(0, KlDivergenceOp.Rows<double>(same, teacher, v, 0, rows, temperature, direction, 1, scratch), 12);
    }

    [Theory]
    [InlineData(4, 4)]   // multi-head
    [InlineData(4, 2)]   // GQA
    [InlineData(4, 1)]   // multi-query
    public void CausalAttention(int heads, int kvHeads)
    {
        const int b = 2, s = 5, hd = 4;
        int qd = heads * hd, kd = kvHeads * hd;
        var q = GradCheck.Random(b * s * qd, 15);
        var k = GradCheck.Random(b * s * kd, 16);
        var v = GradCheck.Random(b * s * kd, 17);
        var r = GradCheck.Random(b * s * qd, 18);
        var probs = new double[b * heads * s * s];
        double[] Run()
        {
            var o = new double[b * s * qd];
            for (int i = 0; i < b * heads; i++)
            {
                CausalAttentionOp.Forward<double>(q, k, v, probs, o, i / heads, i % heads, s, heads, kvHeads, hd);
            }
            return o;
        }
        double Loss() => GradCheck.Dot(Run(), r);
        var o0 = Run();
        // Causality: the first token of each sequence attends to itself only, so its output is its value.
        for (int h = 0; h < heads; h++)
        {
            int kvh = h / (heads / kvHeads);
            for (int d = 0; d < hd; d++)
            {
                Assert.Equal(v[kvh * hd + d], o0[h * hd + d], 12);
            }
        }
        var dq = new double[q.Length];
        var dk = new double[k.Length];
        var dv = new double[v.Length];
        for (int i = 0; i < b * kvHeads; i++)
        {
            CausalAttentionOp.Backward<double>(r, q, k, v, probs, dq, dk, dv, i / kvHeads, i % kvHeads, s, heads, kvHeads, hd);
        }
        GradCheck.Check("dq", q, dq, Loss);
        GradCheck.Check("dk", k, dk, Loss);
        GradCheck.Check("dv", v, dv, Loss);
    }
}
