using System.Buffers.Binary;
using EdgeAgent.Compression.Model;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Compression.Quantization;

/// <summary>
/// The GGML types through our reference quantizers (ggml's <c>_ref</c> functions, bit-exact with llama.cpp's), and
/// with calibration an importance-weighted scale search in the spirit of llama.cpp's imatrix: per block, candidate
/// encodings of <c>c·x</c> for c in 0.84…1.16 are made with the reference quantizer, their fp16 scales divided back
/// by c, and the candidate with the least Σ w_j·(x_j − x̂_j)² wins (w_j the column's mean squared activation).
/// c = 1 is a candidate, so the weighted error never exceeds the plain quantizer's.
/// </summary>
public static class GgmlQuantizer
{
    /// <summary>The types <c>quantize --method ggml --type</c> accepts.</summary>
    public static readonly GgmlType[] Supported =
        [GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL];

    private static readonly float[] Candidates = [1f, .. Enumerable.Range(1, 8).SelectMany(k => new[] { 1f + (0.02f * k), 1f - (0.02f * k) })];

    /// <summary>llama.cpp's fallback when a row is not whole super-blocks (llama_tensor_get_type).</summary>
    public static GgmlType Fallback(GgmlType type, int cols)
    {
        if (cols % GgmlTypes.Layout(type).BlockSize == 0)
        {
            return type;
        }
        var t = type switch
        {
            GgmlType.Q2_K or GgmlType.Q3_K => GgmlType.IQ4_NL,
            GgmlType.Q4_K => GgmlType.Q5_0,
            GgmlType.Q5_K => GgmlType.Q5_1,
            GgmlType.Q6_K => GgmlType.Q8_0,
            _ => GgmlType.F16,
        };
        return cols % GgmlTypes.Layout(t).BlockSize == 0 ? t : GgmlType.F16;
    }

    /// <summary>Encodes a tensor in <paramref name="type"/>; with <paramref name="importance"/> (per column) the weighted search.</summary>
    public static byte[] Encode(FloatTensor t, GgmlType type, float[]? importance)
    {
        if (importance is null || type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16)
        {
            return ModelTensors.EncodeReference(t, type);
        }
        var traits = QuantRegistry.Get(type);
        int bs = traits.BlockSize, ts = traits.TypeSize, cols = t.Cols, blocks = cols / bs;
        var bytes = new byte[(long)t.Rows * blocks * ts];
        Parallel.For(0, t.Rows, r =>
        {
            var scaled = new float[bs];
            var back = new float[bs];
            var candidate = new byte[ts];
            var row = t.Data.AsSpan(r * cols, cols);
            for (int b = 0; b < blocks; b++)
            {
                var x = row.Slice(b * bs, bs);
                var w = importance.AsSpan(b * bs, bs);
                var dst = bytes.AsSpan((int)((((long)r * blocks) + b) * ts), ts);
                double best = double.MaxValue;
                foreach (float c in Candidates)
                {
                    for (int j = 0; j < bs; j++)
                    {
                        scaled[j] = x[j] * c;
                    }
                    traits.QuantizeReference(scaled, candidate);
                    if (c != 1f)
                    {
                        Rescale(type, candidate, 1 / c);
                    }
                    traits.Dequantize(candidate, back);
                    double err = 0;
                    for (int j = 0; j < bs; j++)
                    {
                        double e = x[j] - back[j];
                        err += (w[j] + 1e-12) * e * e;
                    }
                    if (err < best)
                    {
                        best = err;
                        candidate.CopyTo(dst);
                    }
                }
            }
        });
        return bytes;
    }

    /// <summary>Multiplies a block's fp16 super-scales (d, and dmin/m where the type has one) by <paramref name="f"/>.</summary>
    private static void Rescale(GgmlType type, Span<byte> block, float f)
    {
        switch (type)
        {
            case GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 or GgmlType.IQ4_NL:
                ScaleHalf(block[0..], f);
                break;
            case GgmlType.Q4_1 or GgmlType.Q5_1 or GgmlType.Q4_K or GgmlType.Q5_K:
                ScaleHalf(block[0..], f);
                ScaleHalf(block[2..], f);
                break;
            case GgmlType.Q6_K:
                ScaleHalf(block[208..], f);
                break;
            default:
                throw new NotSupportedException($"no importance-weighted search for {type}");
        }
    }

    private static void ScaleHalf(Span<byte> at, float f)
    {
        var h = BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(at));
        BinaryPrimitives.WriteUInt16LittleEndian(at, BitConverter.HalfToUInt16Bits((Half)((float)h * f)));
    }
}
