using EdgeAgent.Inference.Model;
using EdgeAgent.Tensors.Kernels;

namespace EdgeAgent.Training.Model;

/// <summary>Hyper-parameters of a trainable llama model (standard llama: RMSNorm, RoPE on adjacent pairs, SwiGLU, no biases).</summary>
public sealed record ModelShape(int Dim, int Layers, int Heads, int KvHeads, int FfnDim, int VocabSize, int ContextLength,
    bool TiedOutput = false, float RopeBase = 10000f, float RmsEps = 1e-5f)
{
    public int HeadDim => Dim / Heads;
    public int QDim => Heads * HeadDim;
    public int KvDim => KvHeads * HeadDim;

    /// <summary>Checks the shape; throws <see cref="ArgumentException"/> with a one-line reason.</summary>
    public void Validate()
    {
        if (Dim < 1 || Layers < 1 || Heads < 1 || KvHeads < 1 || FfnDim < 1 || VocabSize < 1 || ContextLength < 2)
        {
            throw new ArgumentException("dim, layers, heads, kv heads, ffn and vocabulary must be positive and the context at least 2");
        }
        if (Dim % Heads != 0)
        {
            throw new ArgumentException($"dim {Dim} is not divisible by the head count {Heads}");
        }
        if (Heads % KvHeads != 0)
        {
            throw new ArgumentException($"head count {Heads} is not a multiple of the kv head count {KvHeads}");
        }
        if (HeadDim % 2 != 0)
        {
            throw new ArgumentException($"head size {HeadDim} must be even for RoPE");
        }
    }

    /// <summary>The engine's configuration of this shape (what the written GGUF declares).</summary>
    public ModelConfig ToConfig() => new()
    {
        Architecture = "llama",
        Dim = Dim,
        Layers = Layers,
        Heads = Heads,
        KvHeads = KvHeads,
        HeadDim = HeadDim,
        FfnDim = FfnDim,
        VocabSize = VocabSize,
        ContextLength = ContextLength,
        RmsEps = RmsEps,
        RopeBase = RopeBase,
        RopeDim = HeadDim,
        RopeStyle = RopeStyle.Normal,
    };

    /// <summary>The shape of an engine configuration (llama only: no biases, no QK-norm, full-width RoPE).</summary>
    public static ModelShape FromConfig(ModelConfig c, bool tiedOutput)
    {
        if (c.Architecture != "llama" || c.QkvBias || c.QkNorm || c.RopeDim != c.HeadDim || c.HeadDim * c.Heads != c.Dim)
        {
            throw new ArgumentException($"only plain llama models can be trained (got {c.Architecture})");
        }
        return new ModelShape(c.Dim, c.Layers, c.Heads, c.KvHeads, c.FfnDim, c.VocabSize, c.ContextLength, tiedOutput, c.RopeBase, c.RmsEps);
    }
}
