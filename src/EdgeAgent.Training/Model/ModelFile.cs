using System.Runtime.InteropServices;
using EdgeAgent.Inference.Gguf;
using EdgeAgent.Inference.Model;
using EdgeAgent.Inference.Tokenizers;

namespace EdgeAgent.Training.Model;

/// <summary>A trained model as a standard llama GGUF: F32 tensors with llama.cpp's names, the tokenizer inside.</summary>
public static class ModelFile
{
    /// <summary>Writes <paramref name="parameters"/> (laid out by <paramref name="layout"/>) with <paramref name="vocab"/> to <paramref name="path"/>.</summary>
    public static void Write(string path, ParameterLayout layout, float[] parameters, TokenizerVocab vocab, string name = "edgeagent-trained")
    {
        var s = layout.Shape;
        if (vocab.Tokens.Length != s.VocabSize)
        {
            throw new ArgumentException($"the tokenizer has {vocab.Tokens.Length} tokens, the model {s.VocabSize}");
        }
        var w = new GgufWriter();
        w.Set("general.architecture", "llama")
         .Set("general.name", name)
         .Set("general.file_type", 0u)
         .Set("llama.context_length", (uint)s.ContextLength)
         .Set("llama.embedding_length", (uint)s.Dim)
         .Set("llama.block_count", (uint)s.Layers)
         .Set("llama.feed_forward_length", (uint)s.FfnDim)
         .Set("llama.attention.head_count", (uint)s.Heads)
         .Set("llama.attention.head_count_kv", (uint)s.KvHeads)
         .Set("llama.rope.freq_base", s.RopeBase)
         .Set("llama.rope.dimension_count", (uint)s.HeadDim)
         .Set("llama.attention.layer_norm_rms_epsilon", s.RmsEps)
         .Set("llama.vocab_size", (uint)s.VocabSize);
        vocab.WriteTo(w);
        foreach (var t in layout.Tensors)
        {
            var bytes = MemoryMarshal.AsBytes(parameters.AsSpan((int)t.Offset, (int)t.Length)).ToArray();
            w.AddTensor(t.Name, EdgeAgent.Tensors.Quants.GgmlType.F32, t.GgufDimensions, bytes);
        }
        w.Write(path);
    }

    /// <summary>Reads a llama GGUF (F32/F16/BF16 or any type the engine can dequantize) as a trainable model.</summary>
    /// <exception cref="GgufFormatException">The file is not a plain llama model.</exception>
    public static (ModelShape Shape, float[] Parameters, TokenizerVocab Vocab) Read(string path)
    {
        using var file = GgufFile.Open(path);
        var config = ModelConfig.FromGguf(file);
        bool tied = file.FindTensor("output.weight") is null;
        ModelShape shape;
        try
        {
            shape = ModelShape.FromConfig(config, tied);
        }
        catch (ArgumentException e)
        {
            throw new GgufFormatException(e.Message);
        }
        var layout = new ParameterLayout(shape);
        var parameters = new float[layout.Count];
        foreach (var t in layout.Tensors)
        {
            var info = file.GetTensor(t.Name);
            if (info.ElementCount != t.Length || info.Dimensions[0] != t.Cols)
            {
                throw new GgufFormatException($"tensor '{t.Name}' has shape {info.ShapeText}, expected [{string.Join(", ", t.GgufDimensions)}]");
            }
            file.ReadAsFloat32(info).CopyTo(parameters, t.Offset);
        }
        return (shape, parameters, TokenizerVocab.FromGguf(file.Metadata));
    }
}
