using LLama;
using LLama.Native;

namespace EdgeAgent.Inference.Tests.LlamaCpp;

/// <summary>
/// The reference side of the agreement tests: real llama.cpp (through LLamaSharp, a test-only dependency)
/// evaluating a GGUF file with its exact-arithmetic settings: F32 KV cache, flash attention off (its CPU kernel
/// rounds through F16) and no weight repacking (those kernels quantize activations in row groups). With these,
/// every intermediate tensor of our forward pass equals llama.cpp's to ~1e-7; with llama.cpp's defaults the
/// F16 roundings flip some activation quantization codes and random-weight logits drift by a few percent.
/// </summary>
internal static class LlamaCppLogits
{
    private static readonly object Gate = new();

    /// <summary>Logits of every position of <paramref name="tokens"/> (row-major, tokens × vocab).</summary>
    public static float[] AllPositions(string modelPath, int[] tokens, int threads = 2)
    {
        lock (Gate)
        {
            NativeApi.llama_empty_call();
            var mp = LLama.Native.LLamaModelParams.Default();
            mp.use_extra_bufts = false;
            using var model = SafeLlamaModelHandle.LoadFromFile(modelPath, mp);
            var cp = LLamaContextParams.Default();
            cp.n_ctx = (uint)Math.Max(tokens.Length, 16);
            cp.n_batch = (uint)Math.Max(tokens.Length, 16);
            cp.n_ubatch = (uint)Math.Max(tokens.Length, 16);
            cp.n_threads = threads;
            cp.n_threads_batch = threads;
            cp.type_k = GGMLType.GGML_TYPE_F32;
            cp.type_v = GGMLType.GGML_TYPE_F32;
            cp.llama_flash_attn_type = LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_DISABLED;
            using var ctx = SafeLLamaContextHandle.Create(model, cp);
            var batch = new LLamaBatch();
            for (int i = 0; i < tokens.Length; i++)
            {
                batch.Add(tokens[i], i, LLamaSeqId.Zero, logits: true);
            }
            var result = ctx.Decode(batch);
            if (result != DecodeResult.Ok)
            {
                throw new InvalidOperationException($"llama.cpp decode failed: {result}");
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

    /// <summary>Logits after feeding the tokens one decode call at a time (llama.cpp's single-token path).</summary>
    public static float[] Sequential(string modelPath, int[] tokens, int threads = 2)
    {
        lock (Gate)
        {
            NativeApi.llama_empty_call();
            var mp = LLama.Native.LLamaModelParams.Default();
            mp.use_extra_bufts = false;
            using var model = SafeLlamaModelHandle.LoadFromFile(modelPath, mp);
            var cp = LLamaContextParams.Default();
            cp.n_ctx = (uint)Math.Max(tokens.Length, 16);
            cp.n_threads = threads;
            cp.n_threads_batch = threads;
            cp.type_k = GGMLType.GGML_TYPE_F32;
            cp.type_v = GGMLType.GGML_TYPE_F32;
            cp.llama_flash_attn_type = LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_DISABLED;
            using var ctx = SafeLLamaContextHandle.Create(model, cp);
            int vocab = model.Vocab.Count;
            var all = new float[tokens.Length * vocab];
            for (int i = 0; i < tokens.Length; i++)
            {
                var batch = new LLamaBatch();
                batch.Add(tokens[i], i, LLamaSeqId.Zero, logits: true);
                if (ctx.Decode(batch) != DecodeResult.Ok)
                {
                    throw new InvalidOperationException("llama.cpp decode failed");
                }
                ctx.GetLogitsIth(0).CopyTo(all.AsSpan(i * vocab, vocab));
            }
            return all;
        }
    }

    /// <summary>Logits at the last position.</summary>
    public static float[] LastPosition(string modelPath, int[] tokens, int threads = 2)
    {
        var all = AllPositions(modelPath, tokens, threads);
        int vocab = all.Length / tokens.Length;
        return all.AsSpan((tokens.Length - 1) * vocab, vocab).ToArray();
    }

    /// <summary>Quantizes a GGUF with llama.cpp's own quantizer (llama_model_quantize).</summary>
    public static void Quantize(string source, string destination, LLamaFtype type)
    {
        lock (Gate)
        {
            NativeApi.llama_empty_call();
            if (!LLamaQuantizer.Quantize(source, destination, type, nthread: 2, allowRequantize: true, quantizeOutputTensor: false))
            {
                throw new InvalidOperationException($"llama.cpp failed to quantize {source} to {type}");
            }
        }
    }
}
