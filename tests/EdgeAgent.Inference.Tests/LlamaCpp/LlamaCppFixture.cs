using System.Runtime.InteropServices;
using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;

namespace EdgeAgent.Inference.Tests.LlamaCpp;

/// <summary>
/// Reference llama.cpp (the native build shipped by LLamaSharp.Backend.Cpu) for tests that compare against it.
/// Configures the native library once (logging off) and loads GGUF files. Test-only: the product never calls native code.
/// </summary>
public static class LlamaCppFixture
{
    private static readonly object s_gate = new();
    private static bool s_configured;

    /// <summary>Loads a GGUF file in llama.cpp; <paramref name="vocabOnly"/> skips the tensors (a file with only
    /// <c>general.architecture</c> and the <c>tokenizer.*</c> keys is enough then).</summary>
    public static LlamaCppModel Load(string path, bool vocabOnly = true)
    {
        EnsureConfigured();
        var weights = LLamaWeights.LoadFromFile(new ModelParams(path) { VocabOnly = vocabOnly, GpuLayerCount = 0 });
        return new LlamaCppModel(weights);
    }

    private static void EnsureConfigured()
    {
        lock (s_gate)
        {
            if (s_configured)
            {
                return;
            }
            if (!NativeLibraryConfig.LLama.LibraryHasLoaded)
            {
                NativeLibraryConfig.All.WithLogCallback((level, message) => { });
            }
            NativeApi.llama_empty_call();   // resolves and loads the native library
            s_configured = true;
        }
    }
}

/// <summary>A model loaded in llama.cpp, with the vocabulary calls of <c>llama.h</c>.</summary>
public sealed unsafe class LlamaCppModel : IDisposable
{
    private readonly IntPtr _vocab;

    internal LlamaCppModel(LLamaWeights weights)
    {
        Weights = weights;
        _vocab = Native.ModelGetVocab(weights.NativeHandle.DangerousGetHandle());
    }

    /// <summary>The LLamaSharp handle, for callers that need more than the vocabulary.</summary>
    public LLamaWeights Weights { get; }

    public int VocabSize => Native.VocabNTokens(_vocab);

    /// <summary><c>llama_tokenize</c>.</summary>
    public int[] Tokenize(string text, bool addSpecial = false, bool parseSpecial = false)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        var tokens = new int[utf8.Length + 8];
        fixed (byte* t = utf8)
        fixed (int* o = tokens)
        {
            int n = Native.Tokenize(_vocab, t, utf8.Length, o, tokens.Length, addSpecial ? (byte)1 : (byte)0, parseSpecial ? (byte)1 : (byte)0);
            if (n < 0)
            {
                throw new InvalidOperationException($"llama_tokenize failed ({n})");
            }
            return tokens.AsSpan(0, n).ToArray();
        }
    }

    /// <summary><c>llama_detokenize</c>, as raw bytes.</summary>
    public byte[] DetokenizeToUtf8(ReadOnlySpan<int> ids, bool removeSpecial = false, bool unparseSpecial = false)
    {
        var buffer = new byte[ids.Length * 16 + 64];
        fixed (int* t = ids)
        {
            while (true)
            {
                fixed (byte* b = buffer)
                {
                    int n = Native.Detokenize(_vocab, t, ids.Length, b, buffer.Length, removeSpecial ? (byte)1 : (byte)0, unparseSpecial ? (byte)1 : (byte)0);
                    if (n >= 0)
                    {
                        return buffer.AsSpan(0, n).ToArray();
                    }
                    buffer = new byte[-n];
                }
            }
        }
    }

    /// <summary><c>llama_detokenize</c>, decoded as UTF-8.</summary>
    public string Detokenize(ReadOnlySpan<int> ids, bool removeSpecial = false, bool unparseSpecial = false) =>
        Encoding.UTF8.GetString(DetokenizeToUtf8(ids, removeSpecial, unparseSpecial));

    /// <summary><c>llama_vocab_is_eog</c>.</summary>
    public bool IsEndOfGeneration(int id) => Native.VocabIsEog(_vocab, id) != 0;

    public int Bos => Native.VocabBos(_vocab);

    public int Eos => Native.VocabEos(_vocab);

    public void Dispose() => Weights.Dispose();

    /// <summary>Entry points of the libllama that LLamaSharp loaded (LLamaSharp keeps these ones private).</summary>
    private static class Native
    {
        private static readonly IntPtr s_lib = LoadLoadedLibrary();

        public static readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr> ModelGetVocab =
            (delegate* unmanaged[Cdecl]<IntPtr, IntPtr>)NativeLibrary.GetExport(s_lib, "llama_model_get_vocab");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, int> VocabNTokens =
            (delegate* unmanaged[Cdecl]<IntPtr, int>)NativeLibrary.GetExport(s_lib, "llama_vocab_n_tokens");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, byte*, int, int*, int, byte, byte, int> Tokenize =
            (delegate* unmanaged[Cdecl]<IntPtr, byte*, int, int*, int, byte, byte, int>)NativeLibrary.GetExport(s_lib, "llama_tokenize");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, int*, int, byte*, int, byte, byte, int> Detokenize =
            (delegate* unmanaged[Cdecl]<IntPtr, int*, int, byte*, int, byte, byte, int>)NativeLibrary.GetExport(s_lib, "llama_detokenize");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, int, byte> VocabIsEog =
            (delegate* unmanaged[Cdecl]<IntPtr, int, byte>)NativeLibrary.GetExport(s_lib, "llama_vocab_is_eog");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, int> VocabBos =
            (delegate* unmanaged[Cdecl]<IntPtr, int>)NativeLibrary.GetExport(s_lib, "llama_vocab_bos");
        public static readonly delegate* unmanaged[Cdecl]<IntPtr, int> VocabEos =
            (delegate* unmanaged[Cdecl]<IntPtr, int>)NativeLibrary.GetExport(s_lib, "llama_vocab_eos");

        /// <summary>The very library LLamaSharp selected (AVX level etc.), found in the process's mappings; loading
        /// it again by path returns the same handle.</summary>
        private static IntPtr LoadLoadedLibrary()
        {
            var path = File.ReadLines("/proc/self/maps")
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(f => f.Length >= 6 && Path.GetFileName(f[^1]) == "libllama.so")
                .Select(f => f[^1])
                .FirstOrDefault()
                ?? throw new InvalidOperationException("libllama.so is not loaded (LLamaSharp did not load its native library)");
            return NativeLibrary.Load(path);
        }
    }
}
