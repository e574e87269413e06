using System.Runtime.InteropServices;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Tensors.Kernels;

/// <summary>
/// Fills <paramref name="destination"/> with a matrix's file data starting <paramref name="offset"/> bytes into it.
/// </summary>
public delegate void MatrixBytesReader(long offset, Span<byte> destination);

/// <summary>
/// Owner of weight matrices repacked at load for the matmul kernels (today: Q4_0 and Q8_0 on AVX-512, see
/// <see cref="LegacyPacked"/>). The source rows are read through a <see cref="MatrixBytesReader"/> (a model file is
/// read, not touched through its mapping, so its pages do not stay resident next to the packed copy: the packed
/// matrices take the file's bytes once, not twice). Dispose frees the copies; the matrices returned by
/// <c>Pack</c> must not be used after that.
/// </summary>
public sealed unsafe class PackedWeights : IDisposable
{
    private const int ChunkRows = 64;

    private readonly List<nint> _blocks = [];
    private bool _disposed;

    /// <summary>Bytes held by the packed copies.</summary>
    public long Bytes { get; private set; }

    /// <summary>True when <paramref name="w"/> has a packed layout on this machine.</summary>
    public static bool CanPack(in WeightMatrix w) => LegacyPacked.CanPack(w.Type, w.Rows, w.Cols);

    /// <summary>
    /// <paramref name="w"/> with a packed copy read through <paramref name="read"/>, or <paramref name="w"/> itself
    /// when it has no packed layout here (see <see cref="CanPack"/>).
    /// </summary>
    public WeightMatrix Pack(in WeightMatrix w, MatrixBytesReader read)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!CanPack(w) || w.Packed != null)
        {
            return w;
        }
        long bytes = LegacyPacked.PackedBytes(w.Type, w.Rows, w.Cols);
        var dst = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        _blocks.Add((nint)dst);
        Bytes += bytes;
        int chunkRows = Math.Min(ChunkRows, w.Rows);
        // Native, freed at once: garbage arrays here would stay in the process's resident set until a GC.
        var src = (byte*)NativeMemory.Alloc((nuint)chunkRows * (nuint)w.RowBytes);
        try
        {
            for (int r = 0; r < w.Rows; r += chunkRows)
            {
                int n = Math.Min(chunkRows, w.Rows - r);
                read((long)r * w.RowBytes, new Span<byte>(src, n * w.RowBytes));
                LegacyPacked.Pack(w.Type, src, w.Rows, w.Cols, r, r + n, dst);
            }
        }
        finally
        {
            NativeMemory.Free(src);
        }
        return w.WithPacked(dst);
    }

    /// <summary>Packs <paramref name="w"/> reading its own (in-memory) data.</summary>
    public WeightMatrix Pack(in WeightMatrix w)
    {
        byte* data = w.Data;
        return Pack(w, (offset, destination) => new ReadOnlySpan<byte>(data + offset, destination.Length).CopyTo(destination));
    }

    public void Dispose()
    {
        foreach (var p in _blocks)
        {
            NativeMemory.AlignedFree((void*)p);
        }
        _blocks.Clear();
        Bytes = 0;
        _disposed = true;
    }
}
