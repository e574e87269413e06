using System.Numerics.Tensors;
using EdgeAgent.Compression.Calibration;
using EdgeAgent.Compression.Model;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Compression.Quantization;

/// <summary>
/// AWQ (Lin et al. 2023): per-input-channel scales s = mean|x|^α protect the weights that meet large activations.
/// For every group of linear layers sharing one input, α is grid-searched over 0, 0.05, …, 1 to minimise the
/// output error Σ_t ‖W·x_t − Q(W·diag(s))·diag(s)⁻¹·x_t‖² over calibration samples; W·diag(s) replaces W and the
/// 1/s is folded into what produced the input: the RMSNorm weight (q/k/v, gate/up), the rows of ffn_up
/// (ffn_down, since SwiGLU is linear in up) and of attn_v (attn_output, when every head has its own kv head).
/// α = 0 is the plain quantizer, so the searched error never exceeds it.
/// </summary>
public static class Awq
{
    /// <summary>Applies the searched scales to <paramref name="model"/> in place; returns the scale per input key.</summary>
    public static Dictionary<string, float[]> Apply(ModelTensors model, CalibrationData calibration, CodeBlockFormat format)
    {
        var c = model.Config;
        var applied = new Dictionary<string, float[]>();
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"blk.{l}.";
            Scale(model, calibration, format, p + "attn_in", [p + "attn_q.weight", p + "attn_k.weight", p + "attn_v.weight"], p + "attn_norm.weight", rows: false, applied);
            Scale(model, calibration, format, p + "ffn_in", [p + "ffn_gate.weight", p + "ffn_up.weight"], p + "ffn_norm.weight", rows: false, applied);
            Scale(model, calibration, format, p + "ffn_down_in", [p + "ffn_down.weight"], p + "ffn_up.weight", rows: true, applied);
            if (c.Heads == c.KvHeads && model.Find(p + "attn_v.bias") is null)
            {
                Scale(model, calibration, format, p + "attn_out_in", [p + "attn_output.weight"], p + "attn_v.weight", rows: true, applied);
            }
        }
        return applied;
    }

    private static void Scale(ModelTensors model, CalibrationData calibration, CodeBlockFormat format, string key, string[] names,
        string producer, bool rows, Dictionary<string, float[]> applied)
    {
        if (!calibration.Inputs.TryGetValue(key, out var stats) || stats.Samples.Count == 0)
        {
            return;
        }
        var mats = names.Select(model.Find).ToArray();
        if (mats.Any(m => m is null || m.Cols % format.Group != 0))
        {
            return;
        }
        var meanAbs = stats.MeanAbs().Select(v => Math.Max(v, 1e-8f)).ToArray();
        float[]? bestS = null;
        double bestErr = double.MaxValue;
        for (int step = 0; step <= 20; step++)
        {
            float alpha = step * 0.05f;
            var s = meanAbs.Select(v => MathF.Pow(v, alpha)).ToArray();
            float norm = MathF.Sqrt(s.Max() * s.Min());
            for (int j = 0; j < s.Length; j++)
            {
                s[j] = Math.Max(s[j] / norm, 1e-4f);
            }
            double err = 0;
            foreach (var w in mats)
            {
                err += OutputError(w!, s, format, stats.Samples);
            }
            if (err < bestErr)
            {
                bestErr = err;
                bestS = alpha == 0 ? null : s;
            }
        }
        if (bestS is null)
        {
            return;
        }
        foreach (var w in mats)
        {
            for (int r = 0; r < w!.Rows; r++)
            {
                TensorPrimitives.Multiply(w.Row(r), bestS, w.Row(r));
            }
        }
        var prod = model[producer];
        if (rows)
        {
            for (int j = 0; j < bestS.Length; j++)
            {
                TensorPrimitives.Divide(prod.Row(j), bestS[j], prod.Row(j));
            }
        }
        else
        {
            TensorPrimitives.Divide(prod.Data, bestS, prod.Data);
        }
        applied[key] = bestS;
    }

    /// <summary>Σ_t ‖(W − Q(W·diag(s))·diag(s)⁻¹)·x_t‖² over the samples.</summary>
    internal static double OutputError(FloatTensor w, float[] s, CodeBlockFormat format, List<float[]> samples)
    {
        int cols = w.Cols;
        var errs = new double[w.Rows];
        Parallel.For(0, w.Rows, r =>
        {
            var row = w.Row(r);
            var scaled = new float[cols];
            TensorPrimitives.Multiply(row, s, scaled);
            var q = new byte[cols / format.Group * format.BlockBytes];
            format.QuantizeReference(scaled, q);
            format.Dequantize(q, scaled);
            TensorPrimitives.Divide(scaled, s, scaled);
            TensorPrimitives.Subtract(row, scaled, scaled);
            double e = 0;
            foreach (var x in samples)
            {
                double v = TensorPrimitives.Dot(scaled, x);
                e += v * v;
            }
            errs[r] = e;
        });
        return errs.Sum();
    }
}
