namespace EdgeAgent.Tensors.Quants;

/// <summary>Level packing shared by the 2-bit planes of q2_K and q3_K.</summary>
internal static unsafe class KQuantPack
{
    /// <summary>
    /// Packs 256 levels 0..3 into 64 bytes: per 128-element half, byte l holds elements l, l+32, l+64, l+96 in bit
    /// pairs 0, 1, 2, 3 (the qs layout of block_q2_K and block_q3_K).
    /// </summary>
    public static void Pack2Bit(byte* L, byte* qs)
    {
        for (int j = 0; j < GgmlTypes.QK_K; j += 128)
        {
            for (int l = 0; l < 32; ++l)
            {
                qs[j / 4 + l] = (byte)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
            }
        }
    }
}
