namespace EdgeAgent.Inference.Tokenizers;

/// <summary>
/// GPT-2's reversible byte ↔ character mapping (<c>bytes_to_unicode</c> in openai/gpt-2 <c>encoder.py</c>; llama.cpp
/// <c>unicode_byte_to_utf8_map</c>): printable Latin-1 bytes (<c>!</c>..<c>~</c>, <c>¡</c>..<c>¬</c>,
/// <c>®</c>..<c>ÿ</c>) stand for themselves, the other 68 bytes for U+0100.. in byte order. Byte-level BPE vocabularies
/// spell every token in this alphabet (a space is <c>Ġ</c>, a newline <c>Ċ</c>).
/// </summary>
public static class ByteLevel
{
    private static readonly char[] s_byteToChar = BuildByteToChar();
    private static readonly short[] s_charToByte = BuildCharToByte();

    /// <summary>The character that stands for <paramref name="b"/>.</summary>
    public static char ToChar(byte b) => s_byteToChar[b];

    /// <summary>The byte a character stands for, or -1 if it is not in the alphabet.</summary>
    public static int ToByte(int c) => (uint)c < (uint)s_charToByte.Length ? s_charToByte[c] : -1;

    /// <summary>Spells bytes in the byte-level alphabet.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (dst, src) =>
        {
            for (int i = 0; i < src.Length; i++)
            {
                dst[i] = s_byteToChar[src[i]];
            }
        });
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is (>= 0x21 and <= 0x7E) or (>= 0xA1 and <= 0xAC) or (>= 0xAE and <= 0xFF);
            map[b] = printable ? (char)b : (char)(256 + n++);
        }
        return map;
    }

    private static short[] BuildCharToByte()
    {
        var map = new short[256 + 68];
        Array.Fill(map, (short)-1);
        var byteToChar = BuildByteToChar();
        for (int b = 0; b < 256; b++)
        {
            map[byteToChar[b]] = (short)b;
        }
        return map;
    }
}
