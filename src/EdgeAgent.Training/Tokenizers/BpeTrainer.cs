using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using EdgeAgent.Inference.Tokenizers;

namespace EdgeAgent.Training.Tokenizers;

/// <summary>
/// A trained byte-level BPE vocabulary: id 0 is <c>&lt;|endoftext|&gt;</c> (special; BOS/EOS), ids 1..256 the bytes,
/// then one token per merge, all spelled in GPT-2's byte alphabet (<see cref="ByteLevel"/>).
/// </summary>
public sealed class BpeVocabulary
{
    public const string EndOfText = "<|endoftext|>";

    internal BpeVocabulary(string[] tokens, string[] merges)
    {
        Tokens = tokens;
        Merges = merges;
    }

    /// <summary>Token strings by id.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>Merges by rank, as <c>"left right"</c>.</summary>
    public IReadOnlyList<string> Merges { get; }

    /// <summary>The Hugging Face <c>tokenizer.json</c>: BPE model, ByteLevel pre-tokenizer with the GPT-2 regex,
    /// ByteLevel decoder, <c>&lt;|endoftext|&gt;</c> as a special added token.</summary>
    public string ToHfJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            w.WriteStartObject();
            w.WriteNumber("id", 0);
            w.WriteString("content", EndOfText);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("special", true);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteNull("normalizer");
            void ByteLevelStep(string name)
            {
                w.WriteStartObject(name);
                w.WriteString("type", "ByteLevel");
                w.WriteBoolean("add_prefix_space", false);
                w.WriteBoolean("trim_offsets", true);
                w.WriteBoolean("use_regex", true);
                w.WriteEndObject();
            }
            ByteLevelStep("pre_tokenizer");
            ByteLevelStep("post_processor");
            ByteLevelStep("decoder");
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteNull("unk_token");
            w.WriteNull("continuing_subword_prefix");
            w.WriteNull("end_of_word_suffix");
            w.WriteBoolean("fuse_unk", false);
            w.WriteBoolean("byte_fallback", false);
            w.WriteBoolean("ignore_merges", false);
            w.WriteStartObject("vocab");
            for (int i = 0; i < Tokens.Count; i++)
            {
                w.WriteNumber(Tokens[i], i);
            }
            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (var m in Merges)
            {
                w.WriteStringValue(m);
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>The vocabulary as GGUF stores it (through the same importer a downloaded tokenizer.json takes).</summary>
    public TokenizerVocab ToVocab() => HfTokenizerJson.Parse(ToHfJson());
}

/// <summary>
/// Trains a byte-level BPE (Sennrich et al. 2016; GPT-2's byte alphabet): texts are cut into pre-tokens with GPT-2's
/// regex (exactly as llama.cpp's <c>gpt-2</c> pre-tokenizer does, <see cref="BpePreTokenizer"/>), then the most frequent
/// adjacent pair of symbols is merged until the vocabulary is full. Ties go to the pair whose left, then right, symbol
/// was created first, so the result depends on the text alone.
/// </summary>
public static class BpeTrainer
{
    /// <summary>Smallest vocabulary: the 256 bytes and <c>&lt;|endoftext|&gt;</c>.</summary>
    public const int MinVocabSize = 257;

    /// <exception cref="ArgumentException">The vocabulary size is below <see cref="MinVocabSize"/> or the texts are empty.</exception>
    public static BpeVocabulary Train(IEnumerable<string> texts, int vocabSize, Action<int, int>? progress = null)
    {
        if (vocabSize < MinVocabSize)
        {
            throw new ArgumentException($"vocabulary size {vocabSize} is below {MinVocabSize} (256 byte tokens + {BpeVocabulary.EndOfText})");
        }
        // Count pre-tokens.
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var cpts = new List<int>();
        foreach (var text in texts)
        {
            cpts.Clear();
            foreach (var r in text.EnumerateRunes())
            {
                cpts.Add(r.Value);
            }
            int start = 0;
            var all = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(cpts);
            var sb = new StringBuilder();
            foreach (int len in BpePreTokenizer.Split(all, BpePreTokenizerKind.Gpt2))
            {
                sb.Clear();
                for (int i = start; i < start + len; i++)
                {
                    sb.Append(char.ConvertFromUtf32(all[i]));
                }
                var piece = sb.ToString();
                counts[piece] = counts.GetValueOrDefault(piece) + 1;
                start += len;
            }
        }
        if (counts.Count == 0)
        {
            throw new ArgumentException("the corpus is empty");
        }

        // Words as symbol ids (byte b is id 1 + b), in a fixed order.
        var words = counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToArray();
        var symbols = new List<int>[words.Length];
        var freq = new long[words.Length];
        for (int w = 0; w < words.Length; w++)
        {
            symbols[w] = Encoding.UTF8.GetBytes(words[w].Key).Select(b => 1 + b).ToList();
            freq[w] = words[w].Value;
        }
        var tokens = new List<string> { BpeVocabulary.EndOfText };
        for (int b = 0; b < 256; b++)
        {
            tokens.Add(ByteLevel.ToChar((byte)b).ToString());
        }
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++)
        {
            ids[tokens[i]] = i;
        }
        var merges = new List<string>();

        var pairCount = new Dictionary<long, long>();
        var pairWords = new Dictionary<long, HashSet<int>>();
        static long Key(int a, int b) => ((long)a << 32) | (uint)b;
        void AddPairs(int w, long sign)
        {
            var s = symbols[w];
            for (int i = 0; i + 1 < s.Count; i++)
            {
                long k = Key(s[i], s[i + 1]);
                pairCount[k] = pairCount.GetValueOrDefault(k) + sign * freq[w];
                if (sign > 0)
                {
                    if (!pairWords.TryGetValue(k, out var set))
                    {
                        pairWords[k] = set = [];
                    }
                    set.Add(w);
                }
            }
        }
        for (int w = 0; w < words.Length; w++)
        {
            AddPairs(w, +1);
        }

        // A merge whose spelling already exists reuses that token, so a few merges may not add one.
        int maxMerges = vocabSize * 4;
        while (tokens.Count < vocabSize && merges.Count < maxMerges)
        {
            long best = -1, bestCount = 0;
            foreach (var (k, c) in pairCount)
            {
                if (c > bestCount || (c == bestCount && c > 0 && k < best))
                {
                    best = k;
                    bestCount = c;
                }
            }
            if (bestCount <= 0)
            {
                break;   // every word is a single token
            }
            int left = (int)(best >> 32), right = (int)(best & 0xFFFFFFFF);
            string merged = tokens[left] + tokens[right];
            if (!ids.TryGetValue(merged, out int id))
            {
                id = tokens.Count;
                tokens.Add(merged);
                ids[merged] = id;
            }
            merges.Add($"{tokens[left]} {tokens[right]}");
            foreach (int w in pairWords[best].ToArray())
            {
                AddPairs(w, -1);
                var s = symbols[w];
                for (int i = 0; i + 1 < s.Count; i++)
                {
                    if (s[i] == left && s[i + 1] == right)
                    {
                        s[i] = id;
                        s.RemoveAt(i + 1);
                    }
                }
                AddPairs(w, +1);
            }
            pairWords.Remove(best);
            pairCount.Remove(best);
            progress?.Invoke(tokens.Count, vocabSize);
        }
        return new BpeVocabulary(tokens.ToArray(), merges.ToArray());
    }
}
