using EdgeAgent.Training.Model;

namespace EdgeAgent.Training.Hooks;

/// <summary>Per-channel statistics of one linear layer's input: Σx², max |x| and the row count (for AWQ-style
/// salience, Wanda's ‖x_j‖₂, SmoothQuant's max |x_j|).</summary>
public sealed class ChannelStatistics(int channels)
{
    public double[] SumOfSquares { get; } = new double[channels];
    public float[] MaxAbs { get; } = new float[channels];
    public long Rows { get; private set; }

    /// <summary>‖x_j‖₂ over all rows seen.</summary>
    public double Norm(int channel) => Math.Sqrt(SumOfSquares[channel]);

    internal void Add(ReadOnlySpan<float> x, int rows, ReadOnlySpan<int> targets, int seqLen)
    {
        int c = SumOfSquares.Length;
        for (int r = 0; r < rows; r++)
        {
            if (IsPadding(targets, r, seqLen))
            {
                continue;
            }
            var row = x.Slice(r * c, c);
            for (int j = 0; j < c; j++)
            {
                float v = row[j];
                SumOfSquares[j] += (double)v * v;
                MaxAbs[j] = Math.Max(MaxAbs[j], Math.Abs(v));
            }
            Rows++;
        }
    }

    /// <summary>A row is padding when its whole sequence has no scored target (see TokenDataset.EvalBatch).</summary>
    private static bool IsPadding(ReadOnlySpan<int> targets, int row, int seqLen) => targets[row - row % seqLen] < 0 && targets[row] < 0;
}

/// <summary>
/// Input statistics of every linear layer, keyed by the GGUF name of the weight that consumes them
/// (<c>blk.L.attn_q.weight</c> for the shared input of q/k/v, <c>attn_output</c>, <c>ffn_gate</c> for gate/up,
/// <c>ffn_down</c>, <c>output.weight</c>).
/// </summary>
public sealed class ActivationStatistics
{
    private readonly Dictionary<string, ChannelStatistics> _byWeight = new(StringComparer.Ordinal);

    public ActivationStatistics(ModelShape s)
    {
        for (int l = 0; l < s.Layers; l++)
        {
            var qkv = new ChannelStatistics(s.Dim);
            _byWeight[$"blk.{l}.attn_q.weight"] = qkv;
            _byWeight[$"blk.{l}.attn_k.weight"] = qkv;
            _byWeight[$"blk.{l}.attn_v.weight"] = qkv;
            _byWeight[$"blk.{l}.attn_output.weight"] = new ChannelStatistics(s.QDim);
            var ffn = new ChannelStatistics(s.Dim);
            _byWeight[$"blk.{l}.ffn_gate.weight"] = ffn;
            _byWeight[$"blk.{l}.ffn_up.weight"] = ffn;
            _byWeight[$"blk.{l}.ffn_down.weight"] = new ChannelStatistics(s.FfnDim);
        }
        _byWeight[s.TiedOutput ? "token_embd.weight" : "output.weight"] = new ChannelStatistics(s.Dim);
    }

    public IReadOnlyDictionary<string, ChannelStatistics> ByWeight => _byWeight;

    /// <summary>Adds the activations kept by the model's last forward pass (rows whose sequence is padding skipped).</summary>
    public void Accumulate(TrainableTransformer<float> model, ReadOnlySpan<int> targets)
    {
        var s = model.Shape;
        int n = model.Rows;
        for (int l = 0; l < s.Layers; l++)
        {
            var (attnIn, attOut, ffnIn, hidden) = model.LayerInputs(l);
            _byWeight[$"blk.{l}.attn_q.weight"].Add(attnIn, n, targets, model.SeqLen);
            _byWeight[$"blk.{l}.attn_output.weight"].Add(attOut, n, targets, model.SeqLen);
            _byWeight[$"blk.{l}.ffn_gate.weight"].Add(ffnIn, n, targets, model.SeqLen);
            _byWeight[$"blk.{l}.ffn_down.weight"].Add(hidden, n, targets, model.SeqLen);
        }
        _byWeight[s.TiedOutput ? "token_embd.weight" : "output.weight"].Add(model.OutputInput, n, targets, model.SeqLen);
    }
}
