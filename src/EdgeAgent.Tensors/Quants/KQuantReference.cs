using System.Runtime.CompilerServices;
using static EdgeAgent.Tensors.Quants.KQuantBlocks;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// Shared pieces of the scalar reference dot products, written as ggml's ggml_vec_dot_*_q8_K_generic are: levels
/// unpacked to a signed scratch row, integer products accumulated into eight lanes (element index mod 8), each
/// super-block's lanes scaled by d·y.d into eight float sums that are added up at the end.
/// </summary>
internal static unsafe class KQuantReference
{
    /// <summary>aux32[e mod 8] += scale16[e / 16] · (q8[e] · a[e]) over one super-block (the int16 product fits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LaneDot(sbyte* a, sbyte* q8, int* scale16, int* aux32)
    {
        for (int l = 0; l < 8; ++l)
        {
            aux32[l] = 0;
        }
        for (int j = 0; j < QK / 16; ++j)
        {
            int scale = scale16[j];
            for (int half = 0; half < 2; ++half, q8 += 8, a += 8)
            {
                for (int l = 0; l < 8; ++l)
                {
                    short aux16 = (short)(q8[l] * a[l]);
                    aux32[l] += scale * aux16;
                }
            }
        }
    }

    /// <summary>
    /// ggml_vec_dot_q4_K_q8_K_generic / ggml_vec_dot_q5_K_q8_K_generic: 6-bit scales and mins per 32 elements; the
    /// min term is Σ bsums·min, subtracted per super-block.
    /// </summary>
    public static float DotScaleMin(byte* x, byte* y, int nb, int blockBytes, int offD, int offDMin, int offScales,
        delegate*<byte*, sbyte*, void> unpack)
    {
        sbyte* a = stackalloc sbyte[QK];
        int* scale16 = stackalloc int[16];
        int* aux32 = stackalloc int[8];
        float* sums = stackalloc float[8];
        new Span<float>(sums, 8).Clear();
        float sumf = 0;
        for (int i = 0; i < nb; ++i, x += blockBytes, y += Q8Bytes)
        {
            unpack(x, a);
            UnpackScalesK4(x + offScales, out ulong sc, out ulong mins);
            short* bsums = (short*)(y + Q8BSums);
            int sumi = 0;
            for (int j = 0; j < QK / 16; ++j)
            {
                sumi += bsums[j] * (byte)(mins >> (8 * (j / 2)));
                scale16[j] = (byte)(sc >> (8 * (j / 2)));
            }
            LaneDot(a, (sbyte*)(y + Q8Qs), scale16, aux32);
            float yd = Unsafe.ReadUnaligned<float>(y + Q8D);
            float d = ReadHalf(x + offD) * yd;
            for (int l = 0; l < 8; ++l)
            {
                sums[l] += d * aux32[l];
            }
            float dmin = ReadHalf(x + offDMin) * yd;
            sumf -= dmin * sumi;
        }
        for (int l = 0; l < 8; ++l)
        {
            sumf += sums[l];
        }
        return sumf;
    }

    /// <summary>
    /// ggml_vec_dot_q3_K_q8_K_generic / ggml_vec_dot_q6_K_q8_K_generic: signed levels and one signed scale per
    /// 16 elements (<paramref name="scales"/> fills them), no mins.
    /// </summary>
    public static float DotSymmetric(byte* x, byte* y, int nb, int blockBytes, int offD,
        delegate*<byte*, sbyte*, void> unpack, delegate*<byte*, int*, void> scales)
    {
        sbyte* a = stackalloc sbyte[QK];
        int* scale16 = stackalloc int[16];
        int* aux32 = stackalloc int[8];
        float* sums = stackalloc float[8];
        new Span<float>(sums, 8).Clear();
        for (int i = 0; i < nb; ++i, x += blockBytes, y += Q8Bytes)
        {
            unpack(x, a);
            scales(x, scale16);
            LaneDot(a, (sbyte*)(y + Q8Qs), scale16, aux32);
            float d = ReadHalf(x + offD) * Unsafe.ReadUnaligned<float>(y + Q8D);
            for (int l = 0; l < 8; ++l)
            {
                sums[l] += d * aux32[l];
            }
        }
        float sumf = 0;
        for (int l = 0; l < 8; ++l)
        {
            sumf += sums[l];
        }
        return sumf;
    }
}
