using System.Buffers.Binary;
using EdgeAgent.Inference.Gguf;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Inference.Llama2c;

/// <summary>
/// Imports a llama2.c checkpoint (karpathy/llama2.c <c>run.c</c> format) into GGUF: a header of seven int32
/// (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size — negative when the classifier is separate —,
/// seq_len) followed by float32 weights in run.c's order. llama2.c's matrices are stored (out, in) row-major,
/// which is GGUF's [in, out] layout, and its RoPE rotates adjacent pairs, llama.cpp's "normal" style, so the
/// weights carry over unchanged. The checkpoint has no vocabulary; a byte-level stand-in is attached (see
/// <see cref="StandInVocabulary"/>) and the model is addressed by token ids.
/// </summary>
public static class Llama2cImporter
{
    private const int HeaderBytes = 7 * sizeof(int);

    /// <summary>Header of a llama2.c checkpoint.</summary>
    public sealed record Header(int Dim, int HiddenDim, int Layers, int Heads, int KvHeads, int VocabSize, int SeqLen, bool SharedClassifier);

    /// <summary>True when <paramref name="path"/> looks like a llama2.c checkpoint (not GGUF, plausible header).</summary>
    public static bool LooksLikeCheckpoint(string path)
    {
        try
        {
            using var fs = File.OpenRead(path);
            Span<byte> head = stackalloc byte[HeaderBytes];
            if (fs.ReadAtLeast(head, HeaderBytes, throwOnEndOfStream: false) < HeaderBytes)
            {
                return false;
            }
            if (BinaryPrimitives.ReadUInt32LittleEndian(head) == GgufFile.Magic)
            {
                return false;
            }
            ParseHeader(head, fs.Length);
            return true;
        }
        catch (GgufFormatException)
        {
            return false;
        }
    }

    /// <summary>Reads and validates the header against the file length.</summary>
    /// <exception cref="GgufFormatException">Implausible values, or a length that does not match the weights.</exception>
    public static Header ParseHeader(ReadOnlySpan<byte> head, long fileLength)
    {
        if (head.Length < HeaderBytes)
        {
            throw new GgufFormatException("not a llama2.c checkpoint: shorter than its 28-byte header");
        }
        Span<int> v = stackalloc int[7];
        for (int i = 0; i < 7; i++)
        {
            v[i] = BinaryPrimitives.ReadInt32LittleEndian(head[(i * 4)..]);
        }
        int dim = v[0], hidden = v[1], layers = v[2], heads = v[3], kvHeads = v[4], vocab = v[5], seq = v[6];
        bool shared = vocab > 0;
        vocab = vocab == int.MinValue ? 0 : Math.Abs(vocab);
        const int Max = 1 << 20;
        if (dim is <= 0 or > Max || hidden is <= 0 or > Max || layers is <= 0 or > 4096 || heads <= 0 || kvHeads <= 0
            || vocab is <= 0 or > 1 << 24 || seq is <= 0 or > Max || dim % heads != 0 || heads % kvHeads != 0 || heads > dim)
        {
            throw new GgufFormatException($"not a llama2.c checkpoint: implausible header (dim {dim}, hidden {hidden}, layers {layers}, heads {heads}, kv_heads {kvHeads}, vocab {vocab}, seq_len {seq})");
        }
        var h = new Header(dim, hidden, layers, heads, kvHeads, vocab, seq, shared);
        long expected = checked(HeaderBytes + FloatCount(h) * sizeof(float));
        if (fileLength != expected)
        {
            throw new GgufFormatException($"llama2.c checkpoint size mismatch: {fileLength} bytes, the header implies {expected}");
        }
        return h;
    }

    private static long FloatCount(Header h)
    {
        long d = h.Dim, f = h.HiddenDim, L = h.Layers, v = h.VocabSize, hs = h.Dim / h.Heads, kv = (long)h.KvHeads * hs;
        return checked(v * d + L * d + L * d * d + 2 * L * d * kv + L * d * d + L * d + 3 * L * d * f + d
            + h.SeqLen * hs + (h.SharedClassifier ? 0 : v * d));
    }

    /// <summary>Converts a checkpoint file to a GGUF writer holding an F32 llama model with the stand-in vocabulary.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="GgufFormatException">Not a valid checkpoint.</exception>
    public static GgufWriter Import(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"model file not found: {path}", path);
        }
        var bytes = File.ReadAllBytes(path);
        return Import(bytes, Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>Converts checkpoint bytes to a GGUF writer.</summary>
    public static GgufWriter Import(byte[] bytes, string name = "llama2c")
    {
        var h = ParseHeader(bytes, bytes.Length);
        int d = h.Dim, f = h.HiddenDim, hs = d / h.Heads, kv = h.KvHeads * hs;
        long offset = HeaderBytes;
        byte[] Take(long floats)
        {
            var chunk = bytes.AsSpan((int)offset, (int)(floats * 4)).ToArray();
            offset += floats * 4;
            return chunk;
        }
        var w = new GgufWriter();
        w.Set("general.architecture", "llama")
         .Set("general.name", name)
         .Set("general.file_type", 0u)
         .Set("llama.context_length", (uint)h.SeqLen)
         .Set("llama.embedding_length", (uint)d)
         .Set("llama.block_count", (uint)h.Layers)
         .Set("llama.feed_forward_length", (uint)f)
         .Set("llama.attention.head_count", (uint)h.Heads)
         .Set("llama.attention.head_count_kv", (uint)h.KvHeads)
         .Set("llama.rope.dimension_count", (uint)hs)
         .Set("llama.rope.freq_base", 10000f)
         .Set("llama.attention.layer_norm_rms_epsilon", 1e-5f)
         .Set("llama.vocab_size", (uint)h.VocabSize);
        StandInVocabulary(h.VocabSize).WriteTo(w);

        var embedding = Take((long)h.VocabSize * d);
        w.AddTensor("token_embd.weight", GgmlType.F32, [d, h.VocabSize], embedding);
        // Per-layer arrays are stored layer-major for each kind of weight.
        void PerLayer(string suffix, long rows, long cols)
        {
            for (int l = 0; l < h.Layers; l++)
            {
                long[] dims = rows == 1 ? [cols] : [cols, rows];
                w.AddTensor($"blk.{l}.{suffix}", GgmlType.F32, dims, Take(rows * cols));
            }
        }
        PerLayer("attn_norm.weight", 1, d);
        PerLayer("attn_q.weight", d, d);
        PerLayer("attn_k.weight", kv, d);
        PerLayer("attn_v.weight", kv, d);
        PerLayer("attn_output.weight", d, d);
        PerLayer("ffn_norm.weight", 1, d);
        PerLayer("ffn_gate.weight", f, d);   // w1
        PerLayer("ffn_down.weight", d, f);   // w2
        PerLayer("ffn_up.weight", f, d);     // w3
        w.AddTensor("output_norm.weight", GgmlType.F32, [d], Take(d));
        Take((long)h.SeqLen * hs);             // freq_cis_real + freq_cis_imag (unused: RoPE is computed)
        w.AddTensor("output.weight", GgmlType.F32, [d, h.VocabSize], h.SharedClassifier ? embedding : Take((long)h.VocabSize * d));
        return w;
    }

    /// <summary>
    /// A sentencepiece-style stand-in for a checkpoint's missing vocabulary, laid out like llama2.c's small
    /// tokenizers: 0 <c>&lt;unk&gt;</c>, 1 <c>&lt;s&gt;</c>, 2 <c>&lt;/s&gt;</c>, 3..258 the byte tokens <c>&lt;0x00&gt;</c>..<c>&lt;0xFF&gt;</c>, then
    /// unused filler pieces. Text therefore tokenizes to bytes and ids decode to bytes where they are bytes.
    /// </summary>
    public static StandInVocab StandInVocabulary(int vocabSize)
    {
        var tokens = new string[vocabSize];
        var scores = new float[vocabSize];
        var types = new int[vocabSize];
        for (int i = 0; i < vocabSize; i++)
        {
            (tokens[i], types[i]) = i switch
            {
                0 => ("<unk>", 2),
                1 => ("<s>", 3),
                2 => ("</s>", 3),
                < 259 => ($"<0x{i - 3:X2}>", 6),
                _ => ($"<unused{i}>", 5),
            };
        }
        return new StandInVocab(tokens, scores, types);
    }

    /// <summary>Vocabulary arrays as GGUF stores them.</summary>
    public sealed record StandInVocab(string[] Tokens, float[] Scores, int[] TokenTypes)
    {
        public void WriteTo(GgufWriter w)
        {
            w.Set("tokenizer.ggml.model", "llama")
             .Set("tokenizer.ggml.tokens", Tokens)
             .Set("tokenizer.ggml.scores", Scores)
             .Set("tokenizer.ggml.token_type", TokenTypes)
             .Set("tokenizer.ggml.unknown_token_id", 0u)
             .Set("tokenizer.ggml.bos_token_id", 1u)
             .Set("tokenizer.ggml.eos_token_id", 2u)
             .Set("tokenizer.ggml.add_bos_token", true)
             .Set("tokenizer.ggml.add_eos_token", false);
        }
    }
}
