using System.Numerics;

namespace EdgeAgent.Training.Ops;

/// <summary>
/// Rotary position embedding with the engine's llama convention (<see cref="EdgeAgent.Tensors.Kernels.RopeStyle.Normal"/>):
/// adjacent pairs (x[2i], x[2i+1]) of each head are rotated by θ_i = pos · base^(−2i/ropeDim); dimensions past
/// ropeDim pass through. Rows of a batch hold sequences of <c>seqLen</c> tokens, so row r sits at position r mod seqLen.
/// </summary>
public sealed class RopeOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _cos;
    private readonly T[] _sin;
    private readonly int _half;

    public RopeOp(int ropeDim, double freqBase, int maxPositions)
    {
        _half = ropeDim / 2;
        _cos = new T[maxPositions * _half];
        _sin = new T[maxPositions * _half];
        for (int p = 0; p < maxPositions; p++)
        {
            for (int i = 0; i < _half; i++)
            {
                double theta = p * Math.Pow(freqBase, -2.0 * i / ropeDim);
                _cos[p * _half + i] = T.CreateChecked(Math.Cos(theta));
                _sin[p * _half + i] = T.CreateChecked(Math.Sin(theta));
            }
        }
        MaxPositions = maxPositions;
    }

    public int MaxPositions { get; }

    /// <summary>Rotates, in place, every head of each row of <paramref name="x"/> (rows × heads·headDim).</summary>
    public void Forward(Span<T> x, int rows, int heads, int headDim, int seqLen) => Rotate(x, rows, heads, headDim, seqLen, T.One);

    /// <summary>Turns the gradient of the rotated output into the gradient of the input, in place.</summary>
    public void Backward(Span<T> dx, int rows, int heads, int headDim, int seqLen) =>
        // forward: (y0, y1) = (x0·cos − x1·sin, x0·sin + x1·cos), an orthogonal map R
        //   →   (dx0, dx1) = Rᵀ(dy0, dy1) = (dy0·cos + dy1·sin, −dy0·sin + dy1·cos): the rotation by −θ
        Rotate(dx, rows, heads, headDim, seqLen, -T.One);

    private void Rotate(Span<T> x, int rows, int heads, int headDim, int seqLen, T sign)
    {
        int width = heads * headDim;
        for (int r = 0; r < rows; r++)
        {
            int pos = r % seqLen;
            var cos = _cos.AsSpan(pos * _half, _half);
            var sin = _sin.AsSpan(pos * _half, _half);
            for (int h = 0; h < heads; h++)
            {
                var v = x.Slice(r * width + h * headDim, headDim);
                for (int i = 0; i < _half; i++)
                {
                    T a = v[2 * i], b = v[2 * i + 1], s = sign * sin[i];
                    v[2 * i] = a * cos[i] - b * s;
                    v[2 * i + 1] = a * s + b * cos[i];
                }
            }
        }
    }
}
