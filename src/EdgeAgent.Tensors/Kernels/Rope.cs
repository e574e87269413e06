namespace EdgeAgent.Tensors.Kernels;

/// <summary>How rotary position embedding pairs the dimensions of a head (llama.cpp's rope types).</summary>
public enum RopeStyle
{
    /// <summary>Adjacent pairs (x[2i], x[2i+1]) — LLAMA_ROPE_TYPE_NORM (llama, llama2.c).</summary>
    Normal,

    /// <summary>Halves (x[i], x[i + d/2]) — LLAMA_ROPE_TYPE_NEOX (qwen2, qwen3, GPT-NeoX).</summary>
    NeoX,
}

/// <summary>
/// Rotary position embedding (Su et al. 2021). Angles θ_i = pos · base^(−2i/ropeDim) for the first
/// <c>ropeDim</c> dimensions of each head; the rest pass through. Sin/cos tables are precomputed per position.
/// </summary>
public sealed class Rope
{
    private readonly float[] _cos;
    private readonly float[] _sin;
    private readonly int _half;

    public Rope(int ropeDim, float freqBase, int maxPositions, RopeStyle style, float[]? freqFactors = null)
    {
        RopeDim = ropeDim;
        Style = style;
        _half = ropeDim / 2;
        _cos = new float[(long)maxPositions * _half];
        _sin = new float[(long)maxPositions * _half];
        // As ggml_rope_cache_init: θ scale = base^(−2/d) in float, θ_0 = pos and θ_{i+1} = θ_i·scale (rounded each
        // step), cos/sin from the C library — so the rotated q and k equal llama.cpp's bit for bit.
        float thetaScale = MathF.Pow(freqBase, -2.0f / ropeDim);
        for (int p = 0; p < maxPositions; p++)
        {
            float theta = p;
            for (int i = 0; i < _half; i++)
            {
                float t = freqFactors is not null && i < freqFactors.Length ? theta / freqFactors[i] : theta;
                _cos[(long)p * _half + i] = MathF.Cos(t);
                _sin[(long)p * _half + i] = MathF.Sin(t);
                theta *= thetaScale;
            }
        }
        MaxPositions = maxPositions;
    }

    public int RopeDim { get; }
    public RopeStyle Style { get; }
    public int MaxPositions { get; }

    /// <summary>Rotates every head of <paramref name="x"/> (heads × headDim, contiguous) for position <paramref name="pos"/>.</summary>
    public void Apply(Span<float> x, int heads, int headDim, int pos)
    {
        if ((uint)pos >= (uint)MaxPositions)
        {
            throw new ArgumentOutOfRangeException(nameof(pos), $"position {pos} is beyond the rope table ({MaxPositions})");
        }
        var cos = _cos.AsSpan(pos * _half, _half);
        var sin = _sin.AsSpan(pos * _half, _half);
        for (int h = 0; h < heads; h++)
        {
            var v = x.Slice(h * headDim, headDim);
            if (Style == RopeStyle.Normal)
            {
                for (int i = 0; i < _half; i++)
                {
                    float a = v[2 * i], b = v[2 * i + 1];
                    // ggml's `x0*cos - x1*sin` and `x0*sin + x1*cos` as GCC contracts them into FMAs.
                    v[2 * i] = MathF.FusedMultiplyAdd(a, cos[i], -(b * sin[i]));
                    v[2 * i + 1] = MathF.FusedMultiplyAdd(a, sin[i], b * cos[i]);
                }
            }
            else
            {
                for (int i = 0; i < _half; i++)
                {
                    float a = v[i], b = v[i + _half];
                    v[i] = MathF.FusedMultiplyAdd(a, cos[i], -(b * sin[i]));
                    v[i + _half] = MathF.FusedMultiplyAdd(a, sin[i], b * cos[i]);
                }
            }
        }
    }
}
