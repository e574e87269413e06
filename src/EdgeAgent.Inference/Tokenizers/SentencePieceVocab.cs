namespace EdgeAgent.Inference.Tokenizers;

/// <summary>
/// Imports a sentencepiece <c>tokenizer.model</c> (a serialized <c>ModelProto</c>) the way llama.cpp's
/// <c>convert_hf_to_gguf.py</c> (<c>_create_vocab_sentencepiece</c> / <c>_set_vocab_sentencepiece</c>) does:
/// model "llama", pre "default", every piece with its score and type, special ids from the trainer spec.
/// </summary>
public static class SentencePieceVocab
{
    /// <summary>Files larger than this are refused before reading (real models are well under 10 MB).</summary>
    public const long MaxFileBytes = 256L << 20;

    // sentencepiece_model.proto: ModelProto.SentencePiece.Type
    private const int PieceNormal = 1, PieceUnknown = 2, PieceControl = 3, PieceUserDefined = 4, PieceUnused = 5, PieceByte = 6;

    /// <summary>Reads a <c>tokenizer.model</c> file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="TokenizerFormatException">The file is not a valid sentencepiece model.</exception>
    public static TokenizerVocab FromModelProto(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"sentencepiece model not found: {path}", path);
        }
        if (info.Length > MaxFileBytes)
        {
            throw new TokenizerFormatException($"{path}: {info.Length} bytes is too large for a sentencepiece model");
        }
        try
        {
            return FromModelProto(File.ReadAllBytes(path));
        }
        catch (TokenizerFormatException e)
        {
            throw new TokenizerFormatException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Parses a serialized <c>ModelProto</c>.</summary>
    /// <exception cref="TokenizerFormatException">The bytes are not a valid sentencepiece model.</exception>
    public static TokenizerVocab FromModelProto(ReadOnlySpan<byte> data)
    {
        var tokens = new List<string>();
        var scores = new List<float>();
        var types = new List<int>();
        int unkId = 0, bosId = 1, eosId = 2, padId = -1;   // TrainerSpec defaults
        bool addDummyPrefix = true;                          // NormalizerSpec default
        var r = new ProtobufReader(data);
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            switch (field)
            {
                case 1:   // repeated SentencePiece pieces
                    r.Expect(wire, ProtobufReader.LengthDelimited, field);
                    var (piece, score, type) = ReadPiece(r.ReadBytes());
                    tokens.Add(piece);
                    scores.Add(score);
                    types.Add(type);
                    break;
                case 2:   // TrainerSpec
                    r.Expect(wire, ProtobufReader.LengthDelimited, field);
                    ReadTrainerSpec(r.ReadBytes(), ref unkId, ref bosId, ref eosId, ref padId);
                    break;
                case 3:   // NormalizerSpec
                    r.Expect(wire, ProtobufReader.LengthDelimited, field);
                    addDummyPrefix = ReadAddDummyPrefix(r.ReadBytes());
                    break;
                default:
                    r.Skip(wire);
                    break;
            }
        }
        if (tokens.Count == 0)
        {
            throw new TokenizerFormatException("sentencepiece model has no pieces");
        }
        int Checked(int id) => id >= 0 && id < tokens.Count ? id : -1;
        return new TokenizerVocab
        {
            Model = TokenizerVocab.SentencePieceModel,
            Pre = "default",
            Tokens = tokens.ToArray(),
            Scores = scores.ToArray(),
            TokenTypes = types.ToArray(),
            BosId = Checked(bosId),
            EosId = Checked(eosId),
            UnkId = Checked(unkId),
            PadId = Checked(padId),
            AddBos = true,
            AddEos = false,
            AddSpacePrefix = addDummyPrefix ? null : false,
        };
    }

    private static (string Piece, float Score, int Type) ReadPiece(ReadOnlySpan<byte> data)
    {
        string? piece = null;
        float score = 0;
        int type = PieceNormal;
        var r = new ProtobufReader(data);
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            switch (field)
            {
                case 1:
                    r.Expect(wire, ProtobufReader.LengthDelimited, field);
                    piece = r.ReadString();
                    break;
                case 2:
                    r.Expect(wire, ProtobufReader.Fixed32, field);
                    score = r.ReadFloat();
                    break;
                case 3:
                    r.Expect(wire, ProtobufReader.Varint, field);
                    type = r.ReadInt32();
                    break;
                default:
                    r.Skip(wire);
                    break;
            }
        }
        if (piece is null)
        {
            throw new TokenizerFormatException("sentencepiece piece without text");
        }
        // convert_hf_to_gguf asks IsUnknown / IsControl / IsUnused / IsByte and calls everything else NORMAL,
        // user-defined pieces included.
        int tokenType = type switch
        {
            PieceUnknown => (int)TokenType.Unknown,
            PieceControl => (int)TokenType.Control,
            PieceUnused => (int)TokenType.Unused,
            PieceByte => (int)TokenType.Byte,
            PieceNormal or PieceUserDefined => (int)TokenType.Normal,
            _ => throw new TokenizerFormatException($"sentencepiece piece '{piece}' has unknown type {type}"),
        };
        return (piece, score, tokenType);
    }

    private static void ReadTrainerSpec(ReadOnlySpan<byte> data, ref int unkId, ref int bosId, ref int eosId, ref int padId)
    {
        var r = new ProtobufReader(data);
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            if (field is >= 40 and <= 43 && wire == ProtobufReader.Varint)
            {
                int v = r.ReadInt32();
                switch (field)
                {
                    case 40: unkId = v; break;
                    case 41: bosId = v; break;
                    case 42: eosId = v; break;
                    default: padId = v; break;
                }
            }
            else
            {
                r.Skip(wire);
            }
        }
    }

    private static bool ReadAddDummyPrefix(ReadOnlySpan<byte> data)
    {
        bool addDummyPrefix = true;
        var r = new ProtobufReader(data);
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            if (field == 3 && wire == ProtobufReader.Varint)
            {
                addDummyPrefix = r.ReadBool();
            }
            else
            {
                r.Skip(wire);
            }
        }
        return addDummyPrefix;
    }
}
