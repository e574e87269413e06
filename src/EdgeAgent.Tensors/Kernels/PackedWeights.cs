using System.Runtime.InteropServices;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Tensors.Kernels;

/// <summary>
/// Fills <paramref name="destination"/> with a matrix's file data starting <paramref name="offset"/> bytes into it.
/// </summary>
public delegate void MatrixBytesReader(long offset, Span<byte> destination);

/// <summary>
/// Owner of the resident copies of weight matrices: repacked at load where the matmul kernels have a packed layout
/// (today on AVX-512: Q4_0 and Q8_0, see <see cref="LegacyPacked"/>; Q4_K, see <see cref="Q4_KInterleaved"/>),
/// copied as they are otherwise (<see cref="Load"/>).
/// The source rows are read through a <see cref="MatrixBytesReader"/> (a model file is read, not touched through its
/// mapping, so its pages do not stay resident next to the copy: the matrices take the file's bytes once, not twice).
/// The copies live in a few large regions, which on Linux are marked for transparent huge pages (madvise
/// MADV_HUGEPAGE): a decode step streams every matrix once, and with 2 MiB pages it takes a TLB miss per 2 MiB
/// instead of per 4 KiB (measured: 4-8 % faster decode on the benchmark models). Dispose frees the copies; the
/// matrices returned by <c>Pack</c> and <c>Load</c> must not be used after that.
/// </summary>
public sealed unsafe class PackedWeights : IDisposable
{
    private const int ChunkRows = 64;
    private const long HugePage = 2 << 20;
    private const long RegionBytes = 64L << 20;
    private const long CopyChunkBytes = 16L << 20;

    private readonly List<nint> _regions = [];
    private byte* _next;
    private long _left;
    private bool _disposed;

    /// <summary>Bytes held by the resident copies.</summary>
    public long Bytes { get; private set; }

    /// <summary>True when <paramref name="w"/> has a packed layout on this machine.</summary>
    public static bool CanPack(in WeightMatrix w) => LegacyPacked.CanPack(w.Type, w.Rows, w.Cols) || Q4_KInterleaved.CanPack(w.Type, w.Cols);

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
        bool interleave = Q4_KInterleaved.CanPack(w.Type, w.Cols);
        long bytes = interleave ? (long)w.Rows * w.RowBytes : LegacyPacked.PackedBytes(w.Type, w.Rows, w.Cols);
        var dst = Allocate(bytes);
        int chunkRows = Math.Min(ChunkRows, w.Rows);
        // Native, freed at once: garbage arrays here would stay in the process's resident set until a GC.
        var src = (byte*)NativeMemory.Alloc((nuint)chunkRows * (nuint)w.RowBytes);
        try
        {
            for (int r = 0; r < w.Rows; r += chunkRows)
            {
                int n = Math.Min(chunkRows, w.Rows - r);
                read((long)r * w.RowBytes, new Span<byte>(src, n * w.RowBytes));
                if (interleave)
                {
                    Q4_KInterleaved.Pack(src, dst + ((long)r * w.RowBytes), (long)n * w.RowBytes / KQuantBlocks.Q4Bytes);
                }
                else
                {
                    LegacyPacked.Pack(w.Type, src, w.Rows, w.Cols, r, r + n, dst);
                }
            }
        }
        finally
        {
            NativeMemory.Free(src);
        }
        return w.WithPacked(dst);
    }

    /// <summary>
    /// <paramref name="w"/> packed (<see cref="Pack(in WeightMatrix, MatrixBytesReader)"/>) where it has a packed layout
    /// here, else a plain copy of its rows read through <paramref name="read"/>; either way resident in this owner's
    /// memory (huge pages where the OS gives them) instead of the file's mapping.
    /// </summary>
    public WeightMatrix Load(in WeightMatrix w, MatrixBytesReader read)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (w.Packed != null)
        {
            return w;
        }
        if (CanPack(w))
        {
            return Pack(w, read);
        }
        long bytes = (long)w.Rows * w.RowBytes;
        var dst = Allocate(bytes);
        for (long offset = 0; offset < bytes; offset += CopyChunkBytes)
        {
            int n = (int)Math.Min(CopyChunkBytes, bytes - offset);
            read(offset, new Span<byte>(dst + offset, n));
        }
        return new WeightMatrix(dst, w.Type, w.Rows, w.Cols);
    }

    /// <summary>64-byte aligned bytes from the current region, or from a new one (2 MiB aligned, at least 64 MiB,
    /// marked for huge pages). Pages never written are never resident, so a region's unused tail costs no memory.</summary>
    private byte* Allocate(long bytes)
    {
        long size = (bytes + 63) & ~63L;
        if (size > _left)
        {
            long regionBytes = Math.Max(RegionBytes, (size + HugePage - 1) / HugePage * HugePage);
            var region = (byte*)NativeMemory.AlignedAlloc((nuint)regionBytes, (nuint)HugePage);
            _regions.Add((nint)region);
            AdviseHugePages(region, regionBytes);
            _next = region;
            _left = regionBytes;
        }
        var p = _next;
        _next += size;
        _left -= size;
        Bytes += bytes;
        return p;
    }

    private const int MadvHugePage = 14;
    private static bool s_noMadvise;

    /// <summary>madvise(MADV_HUGEPAGE) on Linux. Advice only: without THP, or where libc cannot be bound, nothing
    /// changes but the page size.</summary>
    private static void AdviseHugePages(byte* region, long bytes)
    {
        if (!OperatingSystem.IsLinux() || s_noMadvise)
        {
            return;
        }
        try
        {
            _ = madvise(region, (nuint)bytes, MadvHugePage);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_noMadvise = true;
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int madvise(void* addr, nuint length, int advice);

    /// <summary>Packs <paramref name="w"/> reading its own (in-memory) data.</summary>
    public WeightMatrix Pack(in WeightMatrix w)
    {
        byte* data = w.Data;
        return Pack(w, (offset, destination) => new ReadOnlySpan<byte>(data + offset, destination.Length).CopyTo(destination));
    }

    public void Dispose()
    {
        foreach (var p in _regions)
        {
            NativeMemory.AlignedFree((void*)p);
        }
        _regions.Clear();
        _next = null;
        _left = 0;
        Bytes = 0;
        _disposed = true;
    }
}
