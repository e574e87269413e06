using EdgeAgent.Inference.Gguf;
using EdgeAgent.Tensors.Kernels;

namespace EdgeAgent.Inference.Model;

/// <summary>
/// Hyper-parameters of a Llama-family transformer, read from GGUF metadata (<c>{arch}.*</c> keys as written by
/// llama.cpp's converters). One forward pass serves every supported architecture; the differences are flags here.
/// Dimension letters used in shape comments: D = <see cref="Dim"/>, H = heads, K = kv heads,
/// Hd = <see cref="HeadDim"/>, F = <see cref="FfnDim"/>, V = vocabulary, T = tokens in a batch.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>Architectures this engine runs.</summary>
    public static readonly IReadOnlyList<string> SupportedArchitectures = ["llama", "qwen2", "qwen3"];

    public required string Architecture { get; init; }
    public required int Dim { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int FfnDim { get; init; }
    public required int VocabSize { get; init; }
    public required int ContextLength { get; init; }
    public required float RmsEps { get; init; }
    public required float RopeBase { get; init; }
    public required int RopeDim { get; init; }
    public required RopeStyle RopeStyle { get; init; }
    public bool QkvBias { get; init; }
    public bool QkNorm { get; init; }

    /// <summary>Q projection width (H·Hd).</summary>
    public int QDim => Heads * HeadDim;

    /// <summary>K/V projection width (K·Hd).</summary>
    public int KvDim => KvHeads * HeadDim;

    /// <summary>Reads the configuration of a GGUF model.</summary>
    /// <exception cref="GgufFormatException">Unknown architecture or missing/invalid hyper-parameters.</exception>
    public static ModelConfig FromGguf(GgufFile file)
    {
        var md = file.Metadata;
        var arch = md.GetString("general.architecture") ?? throw new GgufFormatException("missing general.architecture");
        if (!SupportedArchitectures.Contains(arch))
        {
            throw new GgufFormatException($"unsupported architecture '{arch}' (supported: {string.Join(", ", SupportedArchitectures)})");
        }
        int Req(string key)
        {
            if (!md.TryGetInt32($"{arch}.{key}", out var v) || v <= 0)
            {
                throw new GgufFormatException($"missing or invalid {arch}.{key}");
            }
            return v;
        }
        int dim = Req("embedding_length");
        int heads = Req("attention.head_count");
        int kvHeads = md.TryGetInt32($"{arch}.attention.head_count_kv", out var kv) ? kv : heads;
        int headDim = md.TryGetInt32($"{arch}.attention.key_length", out var kl) ? kl : dim / Math.Max(1, heads);
        var emb = file.GetTensor("token_embd.weight");
        int vocab = md.TryGetInt32($"{arch}.vocab_size", out var vs) ? vs
            : md.GetStringArray("tokenizer.ggml.tokens")?.Length ?? (int)emb.RowCount;
        var config = new ModelConfig
        {
            Architecture = arch,
            Dim = dim,
            Layers = Req("block_count"),
            Heads = heads,
            KvHeads = kvHeads,
            HeadDim = headDim,
            FfnDim = Req("feed_forward_length"),
            VocabSize = vocab,
            ContextLength = md.TryGetInt32($"{arch}.context_length", out var ctx) && ctx > 0 ? ctx : 2048,
            RmsEps = md.GetFloat($"{arch}.attention.layer_norm_rms_epsilon", 1e-5f),
            RopeBase = md.GetFloat($"{arch}.rope.freq_base", 10000f),
            RopeDim = md.TryGetInt32($"{arch}.rope.dimension_count", out var rd) ? rd : headDim,
            RopeStyle = arch == "llama" ? RopeStyle.Normal : RopeStyle.NeoX,
            QkvBias = arch == "qwen2" || file.FindTensor("blk.0.attn_q.bias") is not null,
            QkNorm = arch == "qwen3",
        };
        config.Validate();
        return config;
    }

    /// <summary>Checks the shapes are consistent.</summary>
    public void Validate()
    {
        if (Dim <= 0 || Layers <= 0 || Heads <= 0 || KvHeads <= 0 || HeadDim <= 0 || FfnDim <= 0 || VocabSize <= 0)
        {
            throw new GgufFormatException("model hyper-parameters must be positive");
        }
        if (Heads % KvHeads != 0)
        {
            throw new GgufFormatException($"head count {Heads} is not a multiple of the kv head count {KvHeads}");
        }
        if (RopeDim <= 0 || RopeDim > HeadDim || RopeDim % 2 != 0)
        {
            throw new GgufFormatException($"rope dimension {RopeDim} must be even and at most the head size {HeadDim}");
        }
        if (!(RmsEps > 0) || !(RopeBase > 0))
        {
            throw new GgufFormatException("rms epsilon and rope base must be positive");
        }
    }
}
