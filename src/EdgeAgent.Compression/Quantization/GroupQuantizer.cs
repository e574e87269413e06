using EdgeAgent.Compression.Model;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Compression.Quantization;

/// <summary>
/// Round-to-nearest quantization into EdgeAgent's group formats, per group of weights, with two optional
/// refinements: importance weights per input column (the error is Σ w_j·(x_j − x̂_j)², w_j the mean squared
/// activation of column j) and an MSE-optimal range clip (the range is shrunk by factors 1.0, 0.97, …, 0.55 and
/// the clip with the least weighted error wins). k-means fits its codebook by weighted Lloyd iterations.
/// </summary>
public static class GroupQuantizer
{
    private static readonly float[] Clips = [.. Enumerable.Range(0, 16).Select(i => 1f - (0.03f * i))];

    /// <summary>Encodes a matrix row by row.</summary>
    /// <param name="importance">Per-column weights (length cols), or null for plain MSE.</param>
    public static byte[] Encode(FloatTensor t, CodeBlockFormat f, float[]? importance, bool clipSearch)
    {
        int cols = t.Cols, g = f.Group, groups = cols / g;
        var bytes = new byte[(long)t.Rows * groups * f.BlockBytes];
        Parallel.For(0, t.Rows, r =>
        {
            var codes = new byte[g];
            var best = new byte[g];
            var codebook = new sbyte[f.Levels];
            var centroids = new float[f.Levels];
            var row = t.Data.AsSpan(r * cols, cols);
            for (int b = 0; b < groups; b++)
            {
                var x = row.Slice(b * g, g);
                ReadOnlySpan<float> w = importance is null ? default : importance.AsSpan(b * g, g);
                var block = bytes.AsSpan((int)((((long)r * groups) + b) * f.BlockBytes), f.BlockBytes);
                if (f.Family == EdgeQuantFamily.KMeans)
                {
                    KMeans1D.Fit(x, w, centroids, iterations: 16);
                    float dk = CodeBlockFormat.CodebookFromCentroids(centroids, codebook);
                    CodeBlockFormat.AssignTable(x, dk, codebook, codes);
                    f.EncodeBlock(block, dk, 0, codes, codebook);
                    continue;
                }
                var (d, m) = Search(x, w, f, clipSearch ? Clips : [1f], codes, best);
                f.EncodeBlock(block, d, m, best);
            }
        });
        return bytes;
    }

    /// <summary>Header and codes of one group for the clip with the least weighted error.</summary>
    public static (float D, float M) Search(ReadOnlySpan<float> x, ReadOnlySpan<float> w, CodeBlockFormat f, ReadOnlySpan<float> clips, Span<byte> scratch, Span<byte> best)
    {
        double bestErr = double.MaxValue;
        (float D, float M) bestHeader = default;
        foreach (float clip in clips)
        {
            var (d, m) = Header(x, f, clip);
            Assign(x, f, d, m, scratch);
            double err = Error(x, w, f, d, m, scratch);
            if (err < bestErr)
            {
                bestErr = err;
                bestHeader = (d, m);
                scratch.CopyTo(best);
            }
        }
        return bestHeader;
    }

    /// <summary>Scale (and offset) of a group's range shrunk by <paramref name="clip"/>.</summary>
    public static (float D, float M) Header(ReadOnlySpan<float> x, CodeBlockFormat f, float clip) => f.Family switch
    {
        EdgeQuantFamily.Affine => CodeBlockFormat.AffineRange(x, f.Bits, clip),
        EdgeQuantFamily.Symmetric => (CodeBlockFormat.SymmetricScale(x, f.Bits, clip), 0f),
        _ => (CodeBlockFormat.TableScale(x, f.FixedTable, clip), 0f),
    };

    /// <summary>Nearest codes under a given header (affine, symmetric, fixed tables).</summary>
    public static void Assign(ReadOnlySpan<float> x, CodeBlockFormat f, float d, float m, Span<byte> codes)
    {
        if (f.HasTable)
        {
            CodeBlockFormat.AssignTable(x, d, f.FixedTable, codes);
        }
        else
        {
            f.AssignAffine(x, d, m, codes);
        }
    }

    /// <summary>Σ w·(x − x̂)² (w = 1 when empty).</summary>
    public static double Error(ReadOnlySpan<float> x, ReadOnlySpan<float> w, CodeBlockFormat f, float d, float m, ReadOnlySpan<byte> codes)
    {
        double err = 0;
        var table = f.FixedTable;
        for (int j = 0; j < x.Length; j++)
        {
            float e = x[j] - ((d * f.Value(codes[j], table)) + m);
            err += (w.IsEmpty ? 1f : w[j]) * e * (double)e;
        }
        return err;
    }
}
