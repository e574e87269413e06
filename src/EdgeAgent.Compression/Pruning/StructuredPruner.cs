using EdgeAgent.Compression.Calibration;
using EdgeAgent.Compression.Model;
using EdgeAgent.Inference.Gguf;

namespace EdgeAgent.Compression.Pruning;

/// <summary>
/// Structured pruning that really shrinks the model: FFN neurons, attention heads or whole blocks are removed and
/// the metadata updated, so the result is a smaller dense model every runtime can load. One count is removed per
/// layer (GGUF has one feed_forward_length and head count for all blocks).
/// </summary>
public static class StructuredPruner
{
    /// <summary>
    /// Removes the fraction <paramref name="sparsity"/> of each block's FFN neurons with the least mean |activation|
    /// times the norm of their ffn_down column (the size of what the neuron adds to the residual stream). The kept
    /// count is rounded up to a multiple of 32 (when at least 32) so every quant format still fits.
    /// </summary>
    public static void Neurons(ModelTensors model, CalibrationData calibration, double sparsity)
    {
        var c = model.Config;
        int keep = c.FfnDim - (int)Math.Round(sparsity * c.FfnDim);
        if (c.FfnDim >= 32)
        {
            keep = Math.Min(c.FfnDim, Math.Max(32, (keep + 31) / 32 * 32));
        }
        keep = Math.Max(1, keep);
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"blk.{l}.";
            var down = model[p + "ffn_down.weight"];
            var act = calibration.Inputs[p + "ffn_down_in"].MeanAbs();
            var score = new double[c.FfnDim];
            for (int j = 0; j < c.FfnDim; j++)
            {
                double norm = 0;
                for (int r = 0; r < down.Rows; r++)
                {
                    norm += down.Data[(r * down.Cols) + j] * (double)down.Data[(r * down.Cols) + j];
                }
                score[j] = act[j] * Math.Sqrt(norm);
            }
            var kept = Enumerable.Range(0, c.FfnDim).OrderByDescending(j => score[j]).Take(keep).Order().ToArray();
            KeepRows(model[p + "ffn_gate.weight"], kept);
            KeepRows(model[p + "ffn_up.weight"], kept);
            KeepCols(down, kept);
        }
        model.Metadata.Set($"{c.Architecture}.feed_forward_length", GgufValue.Of((uint)keep));
        model.Reload();
    }

    /// <summary>
    /// Removes the fraction <paramref name="sparsity"/> of kv groups (a kv head with the query heads that share it)
    /// per block, least important first: a head's importance is Σ over its channels of ‖X_j‖·‖W_o[:, j]‖ (Wanda's
    /// score summed over the head's slice of attn_output).
    /// </summary>
    public static void Heads(ModelTensors model, CalibrationData calibration, double sparsity)
    {
        var c = model.Config;
        int group = c.Heads / c.KvHeads, hd = c.HeadDim;
        int keepKv = Math.Max(1, c.KvHeads - (int)Math.Round(sparsity * c.KvHeads));
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"blk.{l}.";
            var wo = model[p + "attn_output.weight"];
            var xnorm = calibration.Inputs[p + "attn_out_in"].ColumnNorms();
            var score = new double[c.KvHeads];
            for (int h = 0; h < c.Heads; h++)
            {
                for (int d = 0; d < hd; d++)
                {
                    int j = (h * hd) + d;
                    double norm = 0;
                    for (int r = 0; r < wo.Rows; r++)
                    {
                        norm += wo.Data[(r * wo.Cols) + j] * (double)wo.Data[(r * wo.Cols) + j];
                    }
                    score[h / group] += xnorm[j] * Math.Sqrt(norm);
                }
            }
            var keptKv = Enumerable.Range(0, c.KvHeads).OrderByDescending(g => score[g]).Take(keepKv).Order().ToArray();
            var qRows = keptKv.SelectMany(g => Enumerable.Range(g * group * hd, group * hd)).ToArray();
            var kvRows = keptKv.SelectMany(g => Enumerable.Range(g * hd, hd)).ToArray();
            KeepRows(model[p + "attn_q.weight"], qRows);
            KeepRows(model[p + "attn_k.weight"], kvRows);
            KeepRows(model[p + "attn_v.weight"], kvRows);
            KeepCols(wo, qRows);
            KeepVector(model.Find(p + "attn_q.bias"), qRows);
            KeepVector(model.Find(p + "attn_k.bias"), kvRows);
            KeepVector(model.Find(p + "attn_v.bias"), kvRows);
        }
        string a = c.Architecture;
        model.Metadata.Set($"{a}.attention.head_count", GgufValue.Of((uint)(keepKv * group)));
        model.Metadata.Set($"{a}.attention.head_count_kv", GgufValue.Of((uint)keepKv));
        // The head size no longer follows from embedding_length / head_count: state it.
        model.Metadata.Set($"{a}.attention.key_length", GgufValue.Of((uint)hd));
        model.Metadata.Set($"{a}.attention.value_length", GgufValue.Of((uint)hd));
        if (a == "llama")
        {
            model.Metadata.Set("llama.rope.dimension_count", GgufValue.Of((uint)c.RopeDim));
        }
        model.Reload();
    }

    /// <summary>
    /// Removes the fraction <paramref name="sparsity"/> of blocks whose output is closest in angle to their input
    /// over the calibration tokens (Gromov et al. 2024, one block at a time), renumbering the rest.
    /// </summary>
    public static void Layers(ModelTensors model, CalibrationData calibration, double sparsity)
    {
        var c = model.Config;
        int remove = Math.Min(c.Layers - 1, (int)Math.Round(sparsity * c.Layers));
        var dropped = Enumerable.Range(0, c.Layers).OrderBy(l => calibration.LayerAngles[l]).Take(remove).ToHashSet();
        model.Tensors.RemoveAll(t => BlockOf(t.Name) is int l && dropped.Contains(l));
        var renumber = Enumerable.Range(0, c.Layers).Where(l => !dropped.Contains(l)).Select((old, i) => (old, i)).ToDictionary(x => x.old, x => x.i);
        foreach (var t in model.Tensors)
        {
            if (BlockOf(t.Name) is int l)
            {
                t.Name = $"blk.{renumber[l]}.{t.Name[(t.Name.IndexOf('.', 4) + 1)..]}";
            }
        }
        model.Metadata.Set($"{c.Architecture}.block_count", GgufValue.Of((uint)(c.Layers - remove)));
        model.Reload();
    }

    private static int? BlockOf(string name) =>
        name.StartsWith("blk.", StringComparison.Ordinal) && int.TryParse(name.AsSpan(4, name.IndexOf('.', 4) - 4), out int l) ? l : null;

    private static void KeepRows(FloatTensor t, int[] rows)
    {
        var data = new float[(long)rows.Length * t.Cols];
        for (int i = 0; i < rows.Length; i++)
        {
            t.Row(rows[i]).CopyTo(data.AsSpan(i * t.Cols, t.Cols));
        }
        t.Data = data;
        t.Dimensions = [t.Cols, rows.Length];
    }

    private static void KeepCols(FloatTensor t, int[] cols)
    {
        var data = new float[(long)t.Rows * cols.Length];
        for (int r = 0; r < t.Rows; r++)
        {
            for (int i = 0; i < cols.Length; i++)
            {
                data[(r * cols.Length) + i] = t.Data[(r * t.Cols) + cols[i]];
            }
        }
        t.Dimensions = [cols.Length, t.Rows];
        t.Data = data;
    }

    private static void KeepVector(FloatTensor? t, int[] keep)
    {
        if (t is null)
        {
            return;
        }
        t.Data = keep.Select(i => t.Data[i]).ToArray();
        t.Dimensions = [keep.Length];
    }
}
