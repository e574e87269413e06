namespace EdgeAgent.Inference.Tokenizers;

/// <summary>Token types as stored in <c>tokenizer.ggml.token_type</c> (llama.h <c>enum llama_token_type</c>, which
/// follows sentencepiece's <c>ModelProto.SentencePiece.Type</c>); the ids are part of the file format.</summary>
public enum TokenType
{
    Undefined = 0,
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

/// <summary>llama.cpp's per-token attributes (llama.h <c>enum llama_token_attr</c>), derived from the token type at
/// load time and then adjusted by the same text-based fix-ups llama.cpp applies.</summary>
[Flags]
internal enum TokenAttributes
{
    Undefined = 0,
    Unknown = 1 << 0,
    Unused = 1 << 1,
    Normal = 1 << 2,
    Control = 1 << 3,
    UserDefined = 1 << 4,
    Byte = 1 << 5,
}
