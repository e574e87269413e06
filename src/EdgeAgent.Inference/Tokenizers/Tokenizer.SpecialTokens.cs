namespace EdgeAgent.Inference.Tokenizers;

/// <summary>The text-based special-token rules of llama.cpp's <c>llama_vocab::impl::load</c>.</summary>
public abstract partial class Tokenizer
{
    // Texts llama.cpp (llama_vocab::impl::load) recognises; kept in its order.
    private static readonly string[] s_eotTexts =
    [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>",
        "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
    ];
    private static readonly string[] s_fimPadTexts = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"];
    private static readonly string[] s_fimRepTexts = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"];
    private static readonly string[] s_fimSepTexts = ["<|file_sep|>"];
    private static readonly string[] s_fimPreTexts =
        ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"];
    private static readonly string[] s_fimSufTexts =
        ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"];
    private static readonly string[] s_fimMidTexts =
        ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"];
    private static readonly HashSet<string> s_eogTexts = new(StringComparer.Ordinal)
    {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
        "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
    };

    /// <summary>The text-based special-token detection of <c>llama_vocab::impl::load</c>: EOT/EOM/FIM tokens found
    /// by text become control tokens, and the end-of-generation set is built. Where llama.cpp takes the first match
    /// in hash-map order we take the lowest id.</summary>
    private void ApplySpecialTokenFixups()
    {
        if (EotId < 0)
        {
            EotId = FindAndMarkControl(s_eotTexts);
        }
        if (EomId < 0)
        {
            EomId = FindAndMarkControl(["<|eom_id|>"]);
        }
        int fimPad = FindAndMarkControl(s_fimPadTexts);
        int fimRep = FindAndMarkControl(s_fimRepTexts);
        int fimSep = FindAndMarkControl(s_fimSepTexts);
        FindAndMarkControl(s_fimPreTexts);
        FindAndMarkControl(s_fimSufTexts);
        FindAndMarkControl(s_fimMidTexts);

        for (int i = 0; i < _texts.Length; i++)
        {
            if ((_attrs[i] & TokenAttributes.Control) != 0 && _texts[i].Contains("unused", StringComparison.Ordinal))
            {
                _attrs[i] |= TokenAttributes.Unused;
            }
        }

        foreach (int id in new[] { fimPad, fimRep, fimSep })
        {
            if (id >= 0)
            {
                _eog[id] = true;
            }
        }
        for (int i = 0; i < _texts.Length; i++)
        {
            if (s_eogTexts.Contains(_texts[i]))
            {
                _eog[i] = true;
                _attrs[i] |= TokenAttributes.Control;
            }
        }
        // llama.cpp's gpt-oss hack: these always render.
        foreach (var t in (string[])["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"])
        {
            if (TokenId(t) is var id and >= 0)
            {
                _attrs[id] = TokenAttributes.UserDefined;
            }
        }
        foreach (int id in new[] { EosId, EotId, EomId })
        {
            if (id >= 0)
            {
                _eog[id] = true;
            }
        }
        // o200k_harmony / solar-open: "<|end|>" is not end-of-generation when "<|return|>"/"<|call|>" exist.
        bool Eog(string t) => TokenId(t) is var id and >= 0 && _eog[id];
        if (Eog("<|end|>") && ((Eog("<|return|>") && (Eog("<|call|>") || Eog("<|calls|>"))) || ((Eog("<|call|>") || Eog("<|calls|>")) && Eog("<|flush|>"))))
        {
            int end = TokenId("<|end|>");
            _eog[end] = false;
            _attrs[end] = TokenAttributes.UserDefined;
        }
        // gemma4 / paddleocr: "</s>" is not end-of-generation when "<|tool_response>" is.
        if (Eog("<|tool_response>") && Eog("</s>"))
        {
            int s = TokenId("</s>");
            _eog[s] = false;
            _attrs[s] = TokenAttributes.Normal;
        }
    }

    private int FindAndMarkControl(string[] texts)
    {
        int found = -1;
        foreach (var t in texts)
        {
            int id = TokenId(t);
            if (id >= 0 && (found < 0 || id < found))
            {
                found = id;
            }
        }
        if (found >= 0)
        {
            _attrs[found] |= TokenAttributes.Control;
        }
        return found;
    }
}
