using EdgeAgent.Inference.Gguf;
using EdgeAgent.Tensors.Kernels;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Inference.Model;

/// <summary>Weights of one transformer block. Matrices stay in their file type; vectors are float32 copies.</summary>
public sealed class LayerWeights
{
    public required float[] AttnNorm { get; init; }   // (D)
    public required WeightMatrix Wq { get; init; }    // (H·Hd, D)
    public required WeightMatrix Wk { get; init; }    // (K·Hd, D)
    public required WeightMatrix Wv { get; init; }    // (K·Hd, D)
    public required WeightMatrix Wo { get; init; }    // (D, H·Hd)
    public float[]? Bq { get; init; }                 // (H·Hd) qwen2
    public float[]? Bk { get; init; }                 // (K·Hd)
    public float[]? Bv { get; init; }                 // (K·Hd)
    public float[]? QNorm { get; init; }              // (Hd) qwen3
    public float[]? KNorm { get; init; }              // (Hd)
    public required float[] FfnNorm { get; init; }    // (D)
    public required WeightMatrix WGate { get; init; } // (F, D)
    public required WeightMatrix WUp { get; init; }   // (F, D)
    public required WeightMatrix WDown { get; init; } // (D, F)
}

/// <summary>Typed views of a model's tensors (llama.cpp tensor names), checked against the configuration.</summary>
public sealed unsafe class ModelWeights : IDisposable
{
    public required WeightMatrix TokenEmbedding { get; init; } // (V, D)
    public required LayerWeights[] Layers { get; init; }
    public required float[] OutputNorm { get; init; }          // (D)
    public required WeightMatrix Output { get; init; }         // (V, D); the embedding when tied
    public bool TiedOutput { get; init; }

    /// <summary>The resident copies of the matrices: repacked where they have a packed layout here, copied as they are
    /// otherwise (see <see cref="PackedWeights"/>).</summary>
    public PackedWeights? Packing { get; init; }

    /// <summary>
    /// Binds the tensors of <paramref name="file"/>; the file must outlive the weights. With <paramref name="pack"/>,
    /// every matrix is read into resident memory (huge pages where the OS gives them): repacked for the matmul kernels
    /// where it has a packed layout on this machine (Q4_0/Q8_0 on AVX-512; same bytes, bit-identical results; about
    /// 1.5× the decode speed), copied as it is otherwise. Without it, matrices are used in place in the file's mapping.
    /// </summary>
    /// <exception cref="GgufFormatException">A tensor is missing, has the wrong shape, or an unsupported type.</exception>
    public static ModelWeights FromGguf(GgufFile file, ModelConfig c, bool pack = true)
    {
        var packing = pack ? new PackedWeights() : null;
        try
        {
            return Bind(file, c, packing);
        }
        catch
        {
            packing?.Dispose();
            throw;
        }
    }

    public void Dispose() => Packing?.Dispose();

    private static ModelWeights Bind(GgufFile file, ModelConfig c, PackedWeights? packing)
    {
        WeightMatrix Matrix(string name, int rows, int cols)
        {
            var t = file.GetTensor(name);
            if (t.Dimensions.Length != 2 || t.Dimensions[0] != cols || t.Dimensions[1] != rows)
            {
                throw new GgufFormatException($"tensor '{name}' has shape {t.ShapeText}, expected [{cols}, {rows}]");
            }
            if (!QuantRegistry.IsSupported(t.Type) || QuantRegistry.Get(t.Type).VecDot is null)
            {
                throw new GgufFormatException($"tensor '{name}' has type {t.Type}, which this engine cannot multiply");
            }
            var w = new WeightMatrix(file.GetTensorPointer(t), t.Type, rows, cols);
            return packing is null ? w : packing.Load(w, (offset, destination) => file.ReadTensorBytes(t, offset, destination));
        }
        float[] Vector(string name, int length)
        {
            var t = file.GetTensor(name);
            if (t.ElementCount != length || t.Dimensions[0] != length)
            {
                throw new GgufFormatException($"tensor '{name}' has shape {t.ShapeText}, expected [{length}]");
            }
            return file.ReadAsFloat32(t);
        }
        float[]? Optional(string name, int length) => file.FindTensor(name) is null ? null : Vector(name, length);

        var layers = new LayerWeights[c.Layers];
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"blk.{l}.";
            layers[l] = new LayerWeights
            {
                AttnNorm = Vector(p + "attn_norm.weight", c.Dim),
                Wq = Matrix(p + "attn_q.weight", c.QDim, c.Dim),
                Wk = Matrix(p + "attn_k.weight", c.KvDim, c.Dim),
                Wv = Matrix(p + "attn_v.weight", c.KvDim, c.Dim),
                Wo = Matrix(p + "attn_output.weight", c.Dim, c.QDim),
                Bq = c.QkvBias ? Vector(p + "attn_q.bias", c.QDim) : Optional(p + "attn_q.bias", c.QDim),
                Bk = c.QkvBias ? Vector(p + "attn_k.bias", c.KvDim) : Optional(p + "attn_k.bias", c.KvDim),
                Bv = c.QkvBias ? Vector(p + "attn_v.bias", c.KvDim) : Optional(p + "attn_v.bias", c.KvDim),
                QNorm = c.QkNorm ? Vector(p + "attn_q_norm.weight", c.HeadDim) : null,
                KNorm = c.QkNorm ? Vector(p + "attn_k_norm.weight", c.HeadDim) : null,
                FfnNorm = Vector(p + "ffn_norm.weight", c.Dim),
                WGate = Matrix(p + "ffn_gate.weight", c.FfnDim, c.Dim),
                WUp = Matrix(p + "ffn_up.weight", c.FfnDim, c.Dim),
                WDown = Matrix(p + "ffn_down.weight", c.Dim, c.FfnDim),
            };
        }
        var emb = file.GetTensor("token_embd.weight");
        if (emb.Dimensions.Length != 2 || emb.Dimensions[0] != c.Dim || emb.Dimensions[1] != c.VocabSize)
        {
            throw new GgufFormatException($"tensor 'token_embd.weight' has shape {emb.ShapeText}, expected [{c.Dim}, {c.VocabSize}]");
        }
        var embedding = new WeightMatrix(file.GetTensorPointer(emb), emb.Type, c.VocabSize, c.Dim);
        bool tied = file.FindTensor("output.weight") is null;
        var output = tied ? Matrix("token_embd.weight", c.VocabSize, c.Dim) : Matrix("output.weight", c.VocabSize, c.Dim);
        return new ModelWeights
        {
            // Tied: look tokens up in the (packed) output matrix, so the file's copy is not paged in row by row.
            TokenEmbedding = tied ? output : embedding,
            Layers = layers,
            OutputNorm = Vector("output_norm.weight", c.Dim),
            Output = output,
            TiedOutput = tied,
            Packing = packing,
        };
    }
}
