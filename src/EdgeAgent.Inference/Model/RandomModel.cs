using System.Runtime.InteropServices;
using EdgeAgent.Inference.Gguf;
using EdgeAgent.Inference.Llama2c;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Inference.Model;

/// <summary>Shape of a random-weight model.</summary>
public sealed record RandomModelShape(
    string Architecture, int Dim, int Layers, int Heads, int KvHeads, int FfnDim, int VocabSize,
    int ContextLength = 2048, bool TiedOutput = false, float RopeBase = 10000f, int? HeadDim = null)
{
    public int HeadSize => HeadDim ?? Dim / Heads;
}

/// <summary>
/// Writes llama.cpp-compatible F32 GGUF models with seeded random weights and a byte-level stand-in vocabulary,
/// for tests and benchmarks of the engine on real shapes without downloading anything. Weights are drawn
/// uniformly with variance 1/fan_in so activations keep a useful scale through many layers.
/// </summary>
public static class RandomModel
{
    /// <summary>Builds the GGUF in a writer (tensor data is generated at write time, one tensor at a time).</summary>
    public static GgufWriter Create(RandomModelShape s, int seed = 1)
    {
        if (!ModelConfig.SupportedArchitectures.Contains(s.Architecture))
        {
            throw new ArgumentException($"unsupported architecture '{s.Architecture}'");
        }
        string a = s.Architecture;
        int hd = s.HeadSize, qd = s.Heads * hd, kvd = s.KvHeads * hd;
        var w = new GgufWriter();
        w.Set("general.architecture", a)
         .Set("general.name", $"random-{a}-{s.Dim}x{s.Layers}")
         .Set("general.file_type", 0u)
         .Set($"{a}.context_length", (uint)s.ContextLength)
         .Set($"{a}.embedding_length", (uint)s.Dim)
         .Set($"{a}.block_count", (uint)s.Layers)
         .Set($"{a}.feed_forward_length", (uint)s.FfnDim)
         .Set($"{a}.attention.head_count", (uint)s.Heads)
         .Set($"{a}.attention.head_count_kv", (uint)s.KvHeads)
         .Set($"{a}.rope.freq_base", s.RopeBase)
         .Set($"{a}.attention.layer_norm_rms_epsilon", 1e-6f);
        if (a == "llama")
        {
            w.Set("llama.rope.dimension_count", (uint)hd).Set("llama.vocab_size", (uint)s.VocabSize);
        }
        if (s.HeadDim is not null || a == "qwen3")
        {
            w.Set($"{a}.attention.key_length", (uint)hd).Set($"{a}.attention.value_length", (uint)hd);
        }
        Llama2cImporter.StandInVocabulary(s.VocabSize).WriteTo(w);

        int tensorIndex = 0;
        void Add(string name, long[] dims, float scale, float offset = 0)
        {
            // A fixed mix (not HashCode, which is randomised per process) so a seed always gives the same model.
            int tensorSeed = unchecked(seed * 1_000_003 + 7919 * tensorIndex++);
            w.AddTensor(name, GgmlType.F32, dims, stream =>
            {
                var rng = new Random(tensorSeed);
                long n = dims.Aggregate(1L, (x, y) => x * y);
                var buf = new float[Math.Min(n, 1 << 16)];
                for (long done = 0; done < n; done += buf.Length)
                {
                    int m = (int)Math.Min(buf.Length, n - done);
                    for (int i = 0; i < m; i++)
                    {
                        buf[i] = offset + scale * (2 * rng.NextSingle() - 1);
                    }
                    stream.Write(MemoryMarshal.AsBytes(buf.AsSpan(0, m)));
                }
            });
        }
        // Uniform(-b, b) has variance b²/3; b = √3/√fan_in gives variance 1/fan_in.
        float U(int fanIn) => MathF.Sqrt(3f / fanIn);

        Add("token_embd.weight", [s.Dim, s.VocabSize], 1f);
        for (int l = 0; l < s.Layers; l++)
        {
            string p = $"blk.{l}.";
            Add(p + "attn_norm.weight", [s.Dim], 0.1f, 1f);
            Add(p + "attn_q.weight", [s.Dim, qd], U(s.Dim));
            Add(p + "attn_k.weight", [s.Dim, kvd], U(s.Dim));
            Add(p + "attn_v.weight", [s.Dim, kvd], U(s.Dim));
            if (a == "qwen2")
            {
                Add(p + "attn_q.bias", [qd], 0.1f);
                Add(p + "attn_k.bias", [kvd], 0.1f);
                Add(p + "attn_v.bias", [kvd], 0.1f);
            }
            if (a == "qwen3")
            {
                Add(p + "attn_q_norm.weight", [hd], 0.1f, 1f);
                Add(p + "attn_k_norm.weight", [hd], 0.1f, 1f);
            }
            Add(p + "attn_output.weight", [qd, s.Dim], U(qd) * 0.5f);
            Add(p + "ffn_norm.weight", [s.Dim], 0.1f, 1f);
            Add(p + "ffn_gate.weight", [s.Dim, s.FfnDim], U(s.Dim));
            Add(p + "ffn_up.weight", [s.Dim, s.FfnDim], U(s.Dim));
            Add(p + "ffn_down.weight", [s.FfnDim, s.Dim], U(s.FfnDim) * 0.5f);
        }
        Add("output_norm.weight", [s.Dim], 0.1f, 1f);
        if (!s.TiedOutput)
        {
            Add("output.weight", [s.Dim, s.VocabSize], U(s.Dim) * 4f);
        }
        return w;
    }

    /// <summary>Writes a random model to <paramref name="path"/>.</summary>
    public static void Write(string path, RandomModelShape shape, int seed = 1) => Create(shape, seed).Write(path);
}
