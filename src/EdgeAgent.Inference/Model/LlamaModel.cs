using EdgeAgent.Tensors.Kernels;
using EdgeAgent.Inference.ChatTemplates;
using EdgeAgent.Inference.Gguf;
using EdgeAgent.Inference.Llama2c;
using EdgeAgent.Inference.Tokenizers;

namespace EdgeAgent.Inference.Model;

/// <summary>
/// A loaded model: the GGUF file (memory-mapped), its configuration and typed weight views. Opens GGUF files and
/// llama2.c checkpoints (imported in memory). Dispose to unmap.
/// </summary>
public sealed class LlamaModel : IDisposable
{
    private LlamaModel(GgufFile file, ModelConfig config, ModelWeights weights)
    {
        File = file;
        Config = config;
        Weights = weights;
    }

    public GgufFile File { get; }
    public ModelConfig Config { get; }
    public ModelWeights Weights { get; }

    /// <summary>The tokenizer described by the file's metadata (built on first use).</summary>
    /// <exception cref="TokenizerFormatException">The file has no usable vocabulary.</exception>
    public Tokenizer Tokenizer => _tokenizer ??= Tokenizer.FromGguf(File.Metadata);

    /// <summary>The file's chat template (<c>tokenizer.chat_template</c>), or ChatML when it has none.</summary>
    /// <exception cref="ChatTemplateException">The stored template does not parse.</exception>
    public ChatTemplate ChatTemplate => _chatTemplate ??= File.Metadata.GetString("tokenizer.chat_template") is { Length: > 0 } source
        ? ChatTemplate.Parse(source)
        : ChatTemplate.ChatMl;

    private Tokenizer? _tokenizer;
    private ChatTemplate? _chatTemplate;

    /// <summary>Opens a model file: GGUF (v2/v3) or a llama2.c checkpoint.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="GgufFormatException">The file is invalid or uses something unsupported.</exception>
    public static LlamaModel Load(string path)
    {
        if (!System.IO.File.Exists(path))
        {
            throw new FileNotFoundException($"model file not found: {path}", path);
        }
        if (Llama2cImporter.LooksLikeCheckpoint(path))
        {
            return FromGguf(GgufFile.FromBytes(Llama2cImporter.Import(path).ToArray()));
        }
        return FromGguf(GgufFile.Open(path));
    }

    /// <summary>Binds a model to an opened GGUF file, taking ownership of it.</summary>
    public static LlamaModel FromGguf(GgufFile file)
    {
        try
        {
            var config = ModelConfig.FromGguf(file);
            // The kernels get their optimized code compiled while the weights load (KernelWarmup), not during the
            // first prompt.
            var warmup = KernelWarmup.Start(file.Tensors.Where(t => t.Dimensions.Length == 2).Select(t => t.Type), config.HeadDim);
            var weights = ModelWeights.FromGguf(file, config);
            warmup.Wait();
            return new LlamaModel(file, config, weights);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Weights.Dispose();
        File.Dispose();
    }
}
