using EdgeAgent.Inference.Gguf;
using EdgeAgent.Inference.Tests.LlamaCpp;
using EdgeAgent.Inference.Tokenizers;

namespace EdgeAgent.Inference.Tests.Tokenizers;

/// <summary>
/// The two real vocabularies of shared/tokenizers, each imported, written to a vocab-only GGUF with our writer, read
/// back into our <see cref="Tokenizer"/> and loaded into llama.cpp from the same file.
/// </summary>
public sealed class VocabFixture : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgeagent-tok-").FullName;

    public VocabFixture()
    {
        Llama2 = Build("llama2", SentencePieceVocab.FromModelProto(TestData.Path("tokenizers", "llama2-tokenizer.model")));
        var smol = HfTokenizerJson.FromFile(TestData.Path("tokenizers", "smollm2-tokenizer.json"));
        SmolLm2 = Build("smollm2", smol);
        // The same byte-level vocabulary under the other pre-tokenizers we support: llama.cpp then splits text with
        // their regexes (and llama-bpe's ignore_merges), so every pre-tokenizer is checked against the real thing.
        foreach (var pre in OtherPreTokenizers)
        {
            _others[pre] = Build("smollm2-" + pre, smol with { Pre = pre });
        }
    }

    /// <summary>Pre-tokenizer names exercised on the SmolLM2 vocabulary besides its own <c>smollm</c>.</summary>
    public static readonly string[] OtherPreTokenizers = ["llama-bpe", "qwen2", "gpt-2", "default"];

    private readonly Dictionary<string, VocabPair> _others = [];

    public VocabPair Llama2 { get; }

    public VocabPair SmolLm2 { get; }

    /// <summary>A vocabulary by name: "llama2", "smollm2" or "smollm2-{pre}".</summary>
    public VocabPair this[string name] => name switch
    {
        "llama2" => Llama2,
        "smollm2" => SmolLm2,
        _ => _others[name["smollm2-".Length..]],
    };

    private VocabPair Build(string name, TokenizerVocab vocab)
    {
        var path = Path.Combine(_dir, name + ".gguf");
        var w = new GgufWriter();
        // A vocab-only load in llama.cpp reads general.architecture and tokenizer.* only (llama_model::load_hparams
        // returns before the first hyper-parameter when vocab_only), so no llama.* keys and no tensors are needed.
        w.Set("general.architecture", "llama");
        vocab.WriteTo(w);
        w.Write(path);
        Tokenizer ours;
        using (var file = GgufFile.Open(path))
        {
            ours = Tokenizer.FromGguf(file.Metadata);
        }
        return new VocabPair(name, path, vocab, ours, LlamaCppFixture.Load(path, vocabOnly: true));
    }

    public void Dispose()
    {
        Llama2.Reference.Dispose();
        SmolLm2.Reference.Dispose();
        foreach (var v in _others.Values)
        {
            v.Reference.Dispose();
        }
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public sealed record VocabPair(string Name, string GgufPath, TokenizerVocab Vocab, Tokenizer Ours, LlamaCppModel Reference);
