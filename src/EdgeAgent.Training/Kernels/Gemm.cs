using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeAgent.Tensors.Threading;

namespace EdgeAgent.Training.Kernels;

/// <summary>
/// Dense matrix products for training: C (M×N) (+)= A (M×K) · B (N×K)ᵀ — every row of C is a set of dot products
/// of a row of A with rows of B, so both operands stream along contiguous rows. The three products of a linear
/// layer all take this form: the forward y = x·Wᵀ directly, dx = dy·W with B = Wᵀ and dW = dyᵀ·x with
/// A = dyᵀ, B = xᵀ (see <see cref="Transpose{T}"/>; a transpose costs 1/K of the product).
/// </summary>
/// <remarks>
/// float32: 4×4 register tiles of 256-bit accumulators (16 FMAs per 8 loads), K cut into 256-wide panels so a
/// 16-row strip of A and a 256-column strip of B stay in L1/L2 while C tiles are revisited. Work is split into
/// independent C tiles of 16 rows × 128 columns, so every element's summation order is fixed by K and the panel
/// width, never by the thread count: results are bit-identical for any number of threads.
/// float64 (used by the gradient checks) takes a plain triple loop.
/// </remarks>
public sealed unsafe class Gemm
{
    private const int TileM = 16;
    private const int TileN = 128;
    private const int PanelK = 256;

    private readonly ComputePool _pool;
    private readonly RangeBody _floatBody;
    private readonly RangeBody _transposeBody;

    // Current job (read by pool threads).
    private float* _a, _b, _c;
    private int _lda, _ldb, _ldc, _m, _n, _k, _tilesM;
    private bool _accumulate;
    private float[]? _tSrc, _tDst;
    private int _tRows, _tCols, _tLds, _tLdd, _tOff;

    public Gemm(ComputePool pool)
    {
        _pool = pool;
        _floatBody = FloatTiles;
        _transposeBody = TransposeRows;
    }

    public ComputePool Pool => _pool;

    /// <summary>C[i·ldc + j] (+)= Σ_k A[i·lda + k]·B[j·ldb + k] for i &lt; m, j &lt; n, on all pool threads.</summary>
    public void ABt<T>(ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, int m, int n, int k, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m <= 0 || n <= 0)
        {
            return;
        }
        CheckShapes(a.Length, lda, b.Length, ldb, c.Length, ldc, m, n, k);
        if (typeof(T) == typeof(float))
        {
            fixed (T* pa = a, pb = b, pc = c)
            {
                _a = (float*)pa;
                _b = (float*)pb;
                _c = (float*)pc;
                _lda = lda;
                _ldb = ldb;
                _ldc = ldc;
                _m = m;
                _n = n;
                _k = k;
                _accumulate = accumulate;
                _tilesM = (m + TileM - 1) / TileM;
                int tiles = _tilesM * ((n + TileN - 1) / TileN);
                _pool.For(tiles, 1, _floatBody);
                _a = _b = _c = null;
            }
            return;
        }
        ABtReference(a, lda, b, ldb, c, ldc, m, n, k, accumulate);
    }

    /// <summary>Single-threaded <see cref="ABt{T}"/>, for use inside a pool job (the pool is not re-entrant).</summary>
    public static void ABtSerial<T>(ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, int m, int n, int k, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m <= 0 || n <= 0)
        {
            return;
        }
        CheckShapes(a.Length, lda, b.Length, ldb, c.Length, ldc, m, n, k);
        if (typeof(T) == typeof(float))
        {
            fixed (T* pa = a, pb = b, pc = c)
            {
                for (int i0 = 0; i0 < m; i0 += TileM)
                {
                    for (int j0 = 0; j0 < n; j0 += TileN)
                    {
                        FloatTile((float*)pa, lda, (float*)pb, ldb, (float*)pc, ldc, i0, Math.Min(m, i0 + TileM), j0, Math.Min(n, j0 + TileN), k, accumulate);
                    }
                }
            }
            return;
        }
        ABtReference(a, lda, b, ldb, c, ldc, m, n, k, accumulate);
    }

    /// <summary>dst (cols×rows, row stride ldd) = src (rows×cols, row stride lds)ᵀ (float32 on all pool threads).</summary>
    public void Transpose<T>(T[] src, int lds, T[] dst, int ldd, int rows, int cols, int srcOffset = 0) where T : unmanaged
    {
        if (rows <= 0 || cols <= 0)
        {
            return;
        }
        if (srcOffset < 0 || srcOffset + (long)(rows - 1) * lds + cols > src.Length || (long)(cols - 1) * ldd + rows > dst.Length)
        {
            throw new ArgumentException("transpose operands are too small");
        }
        if (typeof(T) == typeof(float))
        {
            _tSrc = (float[])(object)src;
            _tDst = (float[])(object)dst;
            _tRows = rows;
            _tCols = cols;
            _tLds = lds;
            _tLdd = ldd;
            _tOff = srcOffset;
            _pool.For((rows + 63) / 64, 1, _transposeBody);
            _tSrc = _tDst = null;
            return;
        }
        TransposeSerial<T>(src.AsSpan(srcOffset), lds, dst, ldd, rows, cols);
    }

    /// <summary>Single-threaded transpose: dst (cols×rows, stride ldd) = src (rows×cols, stride lds)ᵀ.</summary>
    public static void TransposeSerial<T>(ReadOnlySpan<T> src, int lds, Span<T> dst, int ldd, int rows, int cols) where T : unmanaged
    {
        if (rows <= 0 || cols <= 0)
        {
            return;
        }
        if ((long)(rows - 1) * lds + cols > src.Length || (long)(cols - 1) * ldd + rows > dst.Length)
        {
            throw new ArgumentException("transpose operands are too small");
        }
        fixed (T* ps = src, pd = dst)
        {
            if (typeof(T) == typeof(float))
            {
                TransposeFloat((float*)ps, lds, (float*)pd, ldd, rows, cols);
                return;
            }
            for (int i = 0; i < rows; i++)
            {
                for (int j = 0; j < cols; j++)
                {
                    pd[(long)j * ldd + i] = ps[(long)i * lds + j];
                }
            }
        }
    }

    private void TransposeRows(int start, int end)
    {
        fixed (float* ps = _tSrc, pd = _tDst)
        {
            int r0 = start * 64, r1 = Math.Min(_tRows, end * 64);
            TransposeFloat(ps + _tOff + (long)r0 * _tLds, _tLds, pd + r0, _tLdd, r1 - r0, _tCols);
        }
    }

    /// <summary>8×8 blocks through registers (unpack, shuffle, lane permute: the classic AVX transpose), edges scalar.</summary>
    private static void TransposeFloat(float* src, int lds, float* dst, int ldd, int rows, int cols)
    {
        int i = 0;
        if (System.Runtime.Intrinsics.X86.Avx.IsSupported)
        {
            for (; i + 8 <= rows; i += 8)
            {
                int j = 0;
                for (; j + 8 <= cols; j += 8)
                {
                    Transpose8x8(src + (long)i * lds + j, lds, dst + (long)j * ldd + i, ldd);
                }
                for (; j < cols; j++)
                {
                    for (int r = i; r < i + 8; r++)
                    {
                        dst[(long)j * ldd + r] = src[(long)r * lds + j];
                    }
                }
            }
        }
        for (; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                dst[(long)j * ldd + i] = src[(long)i * lds + j];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* s, int lds, float* d, int ldd)
    {
        var r0 = Vector256.Load(s);
        var r1 = Vector256.Load(s + lds);
        var r2 = Vector256.Load(s + 2 * lds);
        var r3 = Vector256.Load(s + 3 * lds);
        var r4 = Vector256.Load(s + 4 * lds);
        var r5 = Vector256.Load(s + 5 * lds);
        var r6 = Vector256.Load(s + 6 * lds);
        var r7 = Vector256.Load(s + 7 * lds);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(u0, u4, 0x20).Store(d);
        Avx.Permute2x128(u1, u5, 0x20).Store(d + ldd);
        Avx.Permute2x128(u2, u6, 0x20).Store(d + 2 * ldd);
        Avx.Permute2x128(u3, u7, 0x20).Store(d + 3 * ldd);
        Avx.Permute2x128(u0, u4, 0x31).Store(d + 4 * ldd);
        Avx.Permute2x128(u1, u5, 0x31).Store(d + 5 * ldd);
        Avx.Permute2x128(u2, u6, 0x31).Store(d + 6 * ldd);
        Avx.Permute2x128(u3, u7, 0x31).Store(d + 7 * ldd);
    }

    private static void CheckShapes(int aLen, int lda, int bLen, int ldb, int cLen, int ldc, int m, int n, int k)
    {
        if (k < 0 || lda < k || ldb < k || ldc < n
            || (long)(m - 1) * lda + k > aLen || (long)(n - 1) * ldb + k > bLen || (long)(m - 1) * ldc + n > cLen)
        {
            throw new ArgumentException($"matrix operands too small for ({m}×{k})·({n}×{k})ᵀ");
        }
    }

    private static void ABtReference<T>(ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, int m, int n, int k, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                T s = accumulate ? c[i * ldc + j] : T.Zero;
                for (int p = 0; p < k; p++)
                {
                    s += a[i * lda + p] * b[j * ldb + p];
                }
                c[i * ldc + j] = s;
            }
        }
    }

    private void FloatTiles(int start, int end)
    {
        for (int t = start; t < end; t++)
        {
            // Column tiles outermost: consecutive tiles share one 128-row strip of B (kept in L2) while strips of A stream.
            int i0 = t % _tilesM * TileM, j0 = t / _tilesM * TileN;
            FloatTile(_a, _lda, _b, _ldb, _c, _ldc, i0, Math.Min(_m, i0 + TileM), j0, Math.Min(_n, j0 + TileN), _k, _accumulate);
        }
    }

    /// <summary>C[i0..i1, j0..j1] over all of K, panel by panel.</summary>
    private static void FloatTile(float* a, int lda, float* b, int ldb, float* c, int ldc, int i0, int i1, int j0, int j1, int k, bool accumulate)
    {
        if (k == 0)
        {
            if (!accumulate)
            {
                for (int i = i0; i < i1; i++)
                {
                    new Span<float>(c + (long)i * ldc + j0, j1 - j0).Clear();
                }
            }
            return;
        }
        for (int p0 = 0; p0 < k; p0 += PanelK)
        {
            int kc = Math.Min(PanelK, k - p0);
            bool add = accumulate || p0 > 0;
            int i = i0;
            for (; i + 4 <= i1; i += 4)
            {
                int j = j0;
                for (; j + 4 <= j1; j += 4)
                {
                    Kernel4x4(a + (long)i * lda + p0, lda, b + (long)j * ldb + p0, ldb, c + (long)i * ldc + j, ldc, kc, add);
                }
                for (; j < j1; j++)
                {
                    for (int r = 0; r < 4; r++)
                    {
                        Dot1(a + (long)(i + r) * lda + p0, b + (long)j * ldb + p0, c + (long)(i + r) * ldc + j, kc, add);
                    }
                }
            }
            for (; i < i1; i++)
            {
                for (int j = j0; j < j1; j++)
                {
                    Dot1(a + (long)i * lda + p0, b + (long)j * ldb + p0, c + (long)i * ldc + j, kc, add);
                }
            }
        }
    }

    /// <summary>Deliberately unrolled 4×4 register tile: 16 vector accumulators, 8 loads and 16 FMAs per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x4(float* a, int lda, float* b, int ldb, float* c, int ldc, int k, bool add)
    {
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda;
        float* b0 = b, b1 = b + ldb, b2 = b + 2 * ldb, b3 = b + 3 * ldb;
        var c00 = Vector256<float>.Zero; var c01 = c00; var c02 = c00; var c03 = c00;
        var c10 = c00; var c11 = c00; var c12 = c00; var c13 = c00;
        var c20 = c00; var c21 = c00; var c22 = c00; var c23 = c00;
        var c30 = c00; var c31 = c00; var c32 = c00; var c33 = c00;
        int p = 0;
        for (; p + 8 <= k; p += 8)
        {
            var x0 = Vector256.Load(a0 + p);
            var x1 = Vector256.Load(a1 + p);
            var x2 = Vector256.Load(a2 + p);
            var x3 = Vector256.Load(a3 + p);
            var y = Vector256.Load(b0 + p);
            c00 = Vector256.FusedMultiplyAdd(x0, y, c00);
            c10 = Vector256.FusedMultiplyAdd(x1, y, c10);
            c20 = Vector256.FusedMultiplyAdd(x2, y, c20);
            c30 = Vector256.FusedMultiplyAdd(x3, y, c30);
            y = Vector256.Load(b1 + p);
            c01 = Vector256.FusedMultiplyAdd(x0, y, c01);
            c11 = Vector256.FusedMultiplyAdd(x1, y, c11);
            c21 = Vector256.FusedMultiplyAdd(x2, y, c21);
            c31 = Vector256.FusedMultiplyAdd(x3, y, c31);
            y = Vector256.Load(b2 + p);
            c02 = Vector256.FusedMultiplyAdd(x0, y, c02);
            c12 = Vector256.FusedMultiplyAdd(x1, y, c12);
            c22 = Vector256.FusedMultiplyAdd(x2, y, c22);
            c32 = Vector256.FusedMultiplyAdd(x3, y, c32);
            y = Vector256.Load(b3 + p);
            c03 = Vector256.FusedMultiplyAdd(x0, y, c03);
            c13 = Vector256.FusedMultiplyAdd(x1, y, c13);
            c23 = Vector256.FusedMultiplyAdd(x2, y, c23);
            c33 = Vector256.FusedMultiplyAdd(x3, y, c33);
        }
        Store4(c, add, Vector256.Sum(c00), Vector256.Sum(c01), Vector256.Sum(c02), Vector256.Sum(c03));
        Store4(c + ldc, add, Vector256.Sum(c10), Vector256.Sum(c11), Vector256.Sum(c12), Vector256.Sum(c13));
        Store4(c + 2 * ldc, add, Vector256.Sum(c20), Vector256.Sum(c21), Vector256.Sum(c22), Vector256.Sum(c23));
        Store4(c + 3 * ldc, add, Vector256.Sum(c30), Vector256.Sum(c31), Vector256.Sum(c32), Vector256.Sum(c33));
        for (; p < k; p++)
        {
            for (int r = 0; r < 4; r++)
            {
                float x = a[r * lda + p];
                float* row = c + r * ldc;
                row[0] += x * b0[p];
                row[1] += x * b1[p];
                row[2] += x * b2[p];
                row[3] += x * b3[p];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(float* c, bool add, float s0, float s1, float s2, float s3)
    {
        if (add)
        {
            c[0] += s0;
            c[1] += s1;
            c[2] += s2;
            c[3] += s3;
        }
        else
        {
            c[0] = s0;
            c[1] = s1;
            c[2] = s2;
            c[3] = s3;
        }
    }

    private static void Dot1(float* a, float* b, float* c, int k, bool add)
    {
        var acc = Vector256<float>.Zero;
        int p = 0;
        for (; p + 8 <= k; p += 8)
        {
            acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + p), Vector256.Load(b + p), acc);
        }
        float s = Vector256.Sum(acc);
        for (; p < k; p++)
        {
            s += a[p] * b[p];
        }
        *c = add ? *c + s : s;
    }
}
