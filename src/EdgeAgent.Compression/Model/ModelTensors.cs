using EdgeAgent.Inference.Gguf;
using EdgeAgent.Inference.Model;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Compression.Model;

/// <summary>A float32 tensor: ggml dimension order (ne0 = row length first), row-major data.</summary>
public sealed class FloatTensor(string name, long[] dimensions, float[] data)
{
    public string Name { get; set; } = name;
    public long[] Dimensions { get; set; } = dimensions;
    public float[] Data { get; set; } = data;
    public int Cols => (int)Dimensions[0];
    public int Rows => Dimensions.Length == 1 ? 1 : (int)(Data.LongLength / Dimensions[0]);
    public bool IsMatrix => Dimensions.Length == 2;
    public Span<float> Row(int r) => Data.AsSpan(r * Cols, Cols);
}

/// <summary>
/// A whole model as float32 tensors plus its metadata, for the compression passes: read from an F32/F16/BF16
/// GGUF (or a llama2.c checkpoint), changed in place by pruners and transforms, written back with any tensor
/// types. Quantized inputs are refused: compressing twice compounds the error invisibly.
/// </summary>
public sealed class ModelTensors
{
    private ModelTensors(GgufMetadata metadata, List<FloatTensor> tensors, ModelConfig config)
    {
        Metadata = metadata;
        Tensors = tensors;
        Config = config;
    }

    public GgufMetadata Metadata { get; }
    public List<FloatTensor> Tensors { get; }

    /// <summary>The configuration as read (pruners that change shapes update the metadata and call <see cref="Reload"/>).</summary>
    public ModelConfig Config { get; private set; }

    public FloatTensor this[string name] => Find(name) ?? throw new KeyNotFoundException($"missing tensor '{name}'");

    public FloatTensor? Find(string name) => Tensors.FirstOrDefault(t => t.Name == name);

    public long ParameterCount => Tensors.Sum(t => t.Data.LongLength);

    /// <summary>Reads a model; every tensor must be F32, F16 or BF16.</summary>
    /// <exception cref="ArgumentException">A tensor is already quantized.</exception>
    public static ModelTensors Load(string path)
    {
        using var model = LlamaModel.Load(path);
        var file = model.File;
        foreach (var t in file.Tensors)
        {
            if (t.Type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16))
            {
                throw new ArgumentException($"{path}: tensor '{t.Name}' is already quantized ({GgmlTypes.Layout(t.Type).Name}); compression needs an F32, F16 or BF16 model");
            }
        }
        var md = new GgufMetadata();
        foreach (var key in file.Metadata.Keys)
        {
            md.Set(key, file.Metadata[key]!);
        }
        var tensors = file.Tensors.Select(t => new FloatTensor(t.Name, (long[])t.Dimensions.Clone(), file.ReadAsFloat32(t))).ToList();
        return new ModelTensors(md, tensors, model.Config);
    }

    /// <summary>Re-reads the configuration from the metadata (after a structural change).</summary>
    public void Reload()
    {
        using var model = ToLlamaModel();
        Config = model.Config;
    }

    /// <summary>The current float32 tensors as a runnable in-memory model (for calibration and tests).</summary>
    public LlamaModel ToLlamaModel() => LlamaModel.FromGguf(GgufFile.FromBytes(ToWriter(_ => GgmlType.F32).ToArray()));

    /// <summary>Writes the model with each tensor in the type <paramref name="typeOf"/> picks, encoded by
    /// <paramref name="encode"/> (default: the type's reference quantizer, row by row).</summary>
    public GgufWriter ToWriter(Func<FloatTensor, GgmlType> typeOf, Func<FloatTensor, GgmlType, byte[]>? encode = null)
    {
        var w = new GgufWriter();
        foreach (var key in Metadata.Keys)
        {
            w.Set(key, Metadata[key]!);
        }
        foreach (var t in Tensors)
        {
            var type = typeOf(t);
            var bytes = (encode ?? EncodeReference)(t, type);
            w.AddTensor(t.Name, type, t.Dimensions, bytes);
        }
        return w;
    }

    /// <summary>Encodes a tensor row by row with the registry's reference quantizer of <paramref name="type"/>.</summary>
    public static byte[] EncodeReference(FloatTensor t, GgmlType type)
    {
        var traits = QuantRegistry.Get(type);
        long rowBytes = GgmlTypes.Layout(type).RowBytes(t.Cols);
        var bytes = new byte[rowBytes * t.Rows];
        for (int r = 0; r < t.Rows; r++)
        {
            traits.QuantizeReference(t.Row(r), bytes.AsSpan((int)(r * rowBytes), (int)rowBytes));
        }
        return bytes;
    }
}
