namespace EdgeAgent.Training.Model;

/// <summary>One tensor inside the flat parameter vector: its GGUF name, offset and shape (rows × cols, row-major;
/// a vector has one row). GGUF dimensions are (cols, rows): ne0 is the row length.</summary>
public sealed record ParameterTensor(string Name, long Offset, int Rows, int Cols)
{
    public long Length => (long)Rows * Cols;

    /// <summary>Matrices get weight decay; norm gains do not.</summary>
    public bool IsMatrix => Rows > 1;

    public long[] GgufDimensions => Rows == 1 ? [Cols] : [Cols, Rows];
}

/// <summary>Offsets of one block's tensors in the flat parameter vector.</summary>
public readonly record struct LayerOffsets(int AttnNorm, int Wq, int Wk, int Wv, int Wo, int FfnNorm, int WGate, int WUp, int WDown);

/// <summary>
/// All parameters of a model as one flat vector (llm.c style): one allocation for parameters, one for gradients,
/// one per optimizer moment, and every tensor a slice. Names are llama.cpp's GGUF tensor names.
/// </summary>
public sealed class ParameterLayout
{
    private readonly List<ParameterTensor> _tensors = [];

    public ParameterLayout(ModelShape s)
    {
        Shape = s;
        int D = s.Dim, F = s.FfnDim, V = s.VocabSize;
        Embedding = Add("token_embd.weight", V, D);
        Layers = new LayerOffsets[s.Layers];
        for (int l = 0; l < s.Layers; l++)
        {
            string p = $"blk.{l}.";
            Layers[l] = new LayerOffsets(
                AttnNorm: Add(p + "attn_norm.weight", 1, D),
                Wq: Add(p + "attn_q.weight", s.QDim, D),
                Wk: Add(p + "attn_k.weight", s.KvDim, D),
                Wv: Add(p + "attn_v.weight", s.KvDim, D),
                Wo: Add(p + "attn_output.weight", D, s.QDim),
                FfnNorm: Add(p + "ffn_norm.weight", 1, D),
                WGate: Add(p + "ffn_gate.weight", F, D),
                WUp: Add(p + "ffn_up.weight", F, D),
                WDown: Add(p + "ffn_down.weight", D, F));
        }
        OutputNorm = Add("output_norm.weight", 1, D);
        Output = s.TiedOutput ? Embedding : Add("output.weight", V, D);
    }

    public ModelShape Shape { get; }
    public IReadOnlyList<ParameterTensor> Tensors => _tensors;
    public int Count { get; private set; }
    public int Embedding { get; }
    public LayerOffsets[] Layers { get; }
    public int OutputNorm { get; }

    /// <summary>Offset of the output head: the embedding's when tied.</summary>
    public int Output { get; }

    public ParameterTensor Get(string name) => _tensors.Find(t => t.Name == name) ?? throw new KeyNotFoundException(name);

    private int Add(string name, int rows, int cols)
    {
        long offset = Count;
        long end = offset + (long)rows * cols;
        if (end > Array.MaxLength)
        {
            throw new ArgumentException("the model has too many parameters for one array");
        }
        _tensors.Add(new ParameterTensor(name, offset, rows, cols));
        Count = (int)end;
        return (int)offset;
    }

    /// <summary>
    /// Seeded initialisation: matrices N(0, 0.02²) with the residual projections (attn_output, ffn_down) scaled by
    /// 1/√(2·layers) (GPT-2), norm gains 1.
    /// </summary>
    public void Initialize(Span<float> parameters, ulong seed)
    {
        var rng = new Rng(seed);
        foreach (var t in _tensors)
        {
            var dst = parameters.Slice((int)t.Offset, (int)t.Length);
            if (!t.IsMatrix)
            {
                dst.Fill(1f);
                continue;
            }
            double std = 0.02;
            if (t.Name.EndsWith("attn_output.weight", StringComparison.Ordinal) || t.Name.EndsWith("ffn_down.weight", StringComparison.Ordinal))
            {
                std /= Math.Sqrt(2.0 * Shape.Layers);
            }
            for (int i = 0; i < dst.Length; i++)
            {
                dst[i] = (float)(std * rng.NextGaussian());
            }
        }
    }
}
