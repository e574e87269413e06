namespace EdgeAgent.Inference.Gguf;

/// <summary>A model file is malformed, truncated, hostile or uses something this engine does not support.
/// The message names the problem in one line, fit to show a user.</summary>
public sealed class GgufFormatException : IOException
{
    public GgufFormatException(string message) : base(message)
    {
    }

    public GgufFormatException(string message, Exception inner) : base(message, inner)
    {
    }
}
