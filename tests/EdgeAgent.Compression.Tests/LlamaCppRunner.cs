using LLama;
using LLama.Native;

namespace EdgeAgent.Compression.Tests;

/// <summary>llama.cpp (through LLamaSharp, tests only) with the exact-arithmetic settings of the engine's agreement
/// tests: F32 KV cache, no flash attention, no weight repacking.</summary>
internal static class LlamaCppRunner
{
    private static readonly object Gate = new();

    /// <summary>Logits of every position (tokens × vocab).</summary>
    public static float[] Logits(string modelPath, int[] tokens)
    {
        lock (Gate)
        {
            NativeApi.llama_empty_call();
            var mp = LLamaModelParams.Default();
            mp.use_extra_bufts = false;
            using var model = SafeLlamaModelHandle.LoadFromFile(modelPath, mp);
            var cp = LLamaContextParams.Default();
            cp.n_ctx = (uint)Math.Max(tokens.Length, 16);
            cp.n_batch = cp.n_ctx;
            cp.n_ubatch = cp.n_ctx;
            cp.n_threads = 2;
            cp.n_threads_batch = 2;
            cp.type_k = GGMLType.GGML_TYPE_F32;
            cp.type_v = GGMLType.GGML_TYPE_F32;
            cp.llama_flash_attn_type = LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_DISABLED;
            using var ctx = SafeLLamaContextHandle.Create(model, cp);
            var batch = new LLamaBatch();
            for (int i = 0; i < tokens.Length; i++)
            {
                batch.Add(tokens[i], i, LLamaSeqId.Zero, logits: true);
            }
            if (ctx.Decode(batch) != DecodeResult.Ok)
            {
                throw new InvalidOperationException("llama.cpp decode failed");
            }
            int vocab = model.Vocab.Count;
            var all = new float[tokens.Length * vocab];
            for (int i = 0; i < tokens.Length; i++)
            {
                ctx.GetLogitsIth(i).CopyTo(all.AsSpan(i * vocab, vocab));
            }
            return all;
        }
    }
}
