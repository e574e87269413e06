using System.Buffers.Binary;
using System.Text;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Inference.Gguf;

/// <summary>
/// Writes GGUF v3 files: metadata in insertion order, tensor infos, then each tensor's data aligned to
/// <see cref="Alignment"/>. Tensor data is either given as bytes or produced by a callback at write time, so a
/// large model can be written without holding it in memory.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<PendingTensor> _tensors = [];

    /// <summary>Metadata to write (in insertion order).</summary>
    public GgufMetadata Metadata { get; } = new();

    /// <summary>Data alignment; written as <c>general.alignment</c> when not the default.</summary>
    public uint Alignment { get; init; } = GgufFile.DefaultAlignment;

    public IReadOnlyList<GgufTensorInfo> Tensors => _tensors.Select(t => t.Info).ToList();

    public GgufWriter Set(string key, GgufValue value)
    {
        Metadata.Set(key, value);
        return this;
    }

    public GgufWriter Set(string key, string value) => Set(key, GgufValue.Of(value));
    public GgufWriter Set(string key, uint value) => Set(key, GgufValue.Of(value));
    public GgufWriter Set(string key, int value) => Set(key, GgufValue.Of(value));
    public GgufWriter Set(string key, float value) => Set(key, GgufValue.Of(value));
    public GgufWriter Set(string key, bool value) => Set(key, GgufValue.Of(value));
    public GgufWriter Set(string key, string[] value) => Set(key, GgufValue.Of(value));
    public GgufWriter Set(string key, float[] value) => Set(key, GgufValue.Of(value));
    public GgufWriter Set(string key, int[] value) => Set(key, GgufValue.Of(value));

    /// <summary>Adds a tensor whose bytes are already encoded in <paramref name="type"/>.</summary>
    /// <param name="dimensions">ggml order: ne0 (the row length) first.</param>
    public GgufWriter AddTensor(string name, GgmlType type, long[] dimensions, ReadOnlyMemory<byte> data)
    {
        long size = ExpectedSize(name, type, dimensions);
        if (data.Length != size)
        {
            throw new ArgumentException($"tensor '{name}': {data.Length} bytes given, {size} expected for {type} {string.Join("x", dimensions)}");
        }
        return AddTensor(name, type, dimensions, s => s.Write(data.Span));
    }

    /// <summary>Adds a float32 tensor.</summary>
    public GgufWriter AddTensor(string name, long[] dimensions, float[] values) =>
        AddTensor(name, GgmlType.F32, dimensions, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    /// <summary>Adds a tensor whose bytes are produced by <paramref name="writeData"/> when the file is written; the
    /// callback must write exactly the tensor's byte size.</summary>
    public GgufWriter AddTensor(string name, GgmlType type, long[] dimensions, Action<Stream> writeData)
    {
        long size = ExpectedSize(name, type, dimensions);
        if (_tensors.Any(t => t.Info.Name == name))
        {
            throw new ArgumentException($"duplicate tensor name '{name}'");
        }
        long offset = _tensors.Count == 0 ? 0 : GgufParser.AlignUp(_tensors[^1].Info.Offset + _tensors[^1].Info.ByteSize, Alignment);
        _tensors.Add(new PendingTensor(new GgufTensorInfo(name, type, (long[])dimensions.Clone(), offset, size), writeData));
        return this;
    }

    /// <summary>Writes the file to <paramref name="path"/> (via a temporary file, so a failure leaves no partial model).</summary>
    public void Write(string path)
    {
        var tmp = path + ".partial";
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                WriteTo(fs);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            File.Delete(tmp);
            throw;
        }
    }

    /// <summary>The whole file as bytes (for tests and in-memory models).</summary>
    public byte[] ToArray()
    {
        using var ms = new MemoryStream();
        WriteTo(ms);
        return ms.ToArray();
    }

    public void WriteTo(Stream stream)
    {
        if (Alignment != GgufFile.DefaultAlignment)
        {
            Metadata.Set("general.alignment", GgufValue.Of(Alignment));
        }
        var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(GgufFile.Magic);
        w.Write(3u);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)Metadata.Count);
        foreach (var key in Metadata.Keys)
        {
            WriteString(w, key);
            var v = Metadata[key]!;
            w.Write((uint)v.Type);
            WriteValue(w, v);
        }
        foreach (var t in _tensors)
        {
            WriteString(w, t.Info.Name);
            w.Write((uint)t.Info.Dimensions.Length);
            foreach (var d in t.Info.Dimensions)
            {
                w.Write((ulong)d);
            }
            w.Write((uint)t.Info.Type);
            w.Write((ulong)t.Info.Offset);
        }
        w.Flush();
        long position = 0;
        Pad(stream, CountHeader(), Alignment);
        foreach (var t in _tensors)
        {
            Pad(stream, position, Alignment);
            position = GgufParser.AlignUp(position, Alignment);
            var counting = new CountingStream(stream);
            t.WriteData(counting);
            if (counting.Written != t.Info.ByteSize)
            {
                throw new InvalidOperationException($"tensor '{t.Info.Name}': writer produced {counting.Written} bytes, {t.Info.ByteSize} expected");
            }
            position += t.Info.ByteSize;
        }
        stream.Flush();
    }

    private long CountHeader()
    {
        using var counter = new CountingStream(Stream.Null);
        var w = new BinaryWriter(counter, Encoding.UTF8, leaveOpen: true);
        w.Write(0u); w.Write(0u); w.Write(0ul); w.Write(0ul);
        foreach (var key in Metadata.Keys)
        {
            WriteString(w, key);
            w.Write(0u);
            WriteValue(w, Metadata[key]!);
        }
        foreach (var t in _tensors)
        {
            WriteString(w, t.Info.Name);
            w.Write(0u);
            foreach (var _ in t.Info.Dimensions)
            {
                w.Write(0ul);
            }
            w.Write(0u); w.Write(0ul);
        }
        w.Flush();
        return counter.Written;
    }

    private static void Pad(Stream s, long position, uint alignment)
    {
        long pad = GgufParser.AlignUp(position, alignment) - position;
        for (long i = 0; i < pad; i++)
        {
            s.WriteByte(0);
        }
    }

    private static long ExpectedSize(string name, GgmlType type, long[] dims)
    {
        if (dims.Length is 0 or > GgufFile.MaxDimensions || dims.Any(d => d < 0))
        {
            throw new ArgumentException($"tensor '{name}': 1 to {GgufFile.MaxDimensions} non-negative dimensions required");
        }
        var layout = GgmlTypes.Layout(type);
        if (dims[0] % layout.BlockSize != 0)
        {
            throw new ArgumentException($"tensor '{name}': row length {dims[0]} is not a multiple of the {layout.Name} block size {layout.BlockSize}");
        }
        long n = dims.Aggregate(1L, (a, d) => checked(a * d));
        return n / layout.BlockSize * layout.TypeSize;
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValue v)
    {
        switch (v.Value)
        {
            case byte x: w.Write(x); break;
            case sbyte x: w.Write(x); break;
            case ushort x: w.Write(x); break;
            case short x: w.Write(x); break;
            case uint x: w.Write(x); break;
            case int x: w.Write(x); break;
            case ulong x: w.Write(x); break;
            case long x: w.Write(x); break;
            case float x: w.Write(x); break;
            case double x: w.Write(x); break;
            case bool x: w.Write((byte)(x ? 1 : 0)); break;
            case string x: WriteString(w, x); break;
            case Array a: WriteArray(w, v.ElementType, a); break;
            default: throw new ArgumentException($"cannot write metadata value of type {v.Value.GetType()}");
        }
    }

    private static void WriteArray(BinaryWriter w, GgufValueType elem, Array a)
    {
        w.Write((uint)elem);
        w.Write((ulong)a.LongLength);
        switch (a)
        {
            case string[] s:
                foreach (var x in s)
                {
                    WriteString(w, x);
                }
                break;
            case bool[] b:
                foreach (var x in b)
                {
                    w.Write((byte)(x ? 1 : 0));
                }
                break;
            case GgufValue[] nested:
                foreach (var x in nested)
                {
                    WriteArray(w, x.ElementType, (Array)x.Value);
                }
                break;
            case byte[] x: w.Write(x); break;
            case sbyte[] x: w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan())); break;
            case ushort[] x: w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan())); break;
            case short[] x: w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan())); break;
            case uint[] x: w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan())); break;
            case int[] x: w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan())); break;
            case ulong[] x: w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan())); break;
            case long[] x: w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan())); break;
            case float[] x: w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan())); break;
            case double[] x: w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan())); break;
            default: throw new ArgumentException($"cannot write array of {a.GetType()}");
        }
    }

    private sealed record PendingTensor(GgufTensorInfo Info, Action<Stream> WriteData);

    /// <summary>Pass-through stream that counts bytes written.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Written { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written;
        public override long Position { get => Written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            Written += count;
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            Written += buffer.Length;
        }
    }
}
