namespace EdgeAgent.Inference.Tokenizers;

/// <summary>A vocabulary (GGUF tokenizer metadata, a sentencepiece <c>tokenizer.model</c> or a Hugging Face
/// <c>tokenizer.json</c>) is malformed, truncated, inconsistent or uses something this engine does not support.
/// The message names the problem in one line.</summary>
public sealed class TokenizerFormatException : IOException
{
    public TokenizerFormatException(string message) : base(message)
    {
    }

    public TokenizerFormatException(string message, Exception inner) : base(message, inner)
    {
    }
}
