namespace EdgeAgent.Inference.Model;

/// <summary>
/// Keys and values of every layer for positions [0, <see cref="Capacity"/>), float32, laid out
/// (layer, position, K·Hd). <see cref="Length"/> is how many positions are filled; a new sequence clears it.
/// </summary>
public sealed class KvCache
{
    private readonly float[] _keys;
    private readonly float[] _values;

    public KvCache(ModelConfig config, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        Layers = config.Layers;
        KvDim = config.KvDim;
        long size = (long)Layers * capacity * KvDim;
        if (size > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), $"a KV cache of {capacity} positions does not fit in one array; use a smaller context");
        }
        _keys = new float[size];
        _values = new float[size];
    }

    public int Capacity { get; }
    public int Layers { get; }
    public int KvDim { get; }

    /// <summary>Filled positions.</summary>
    public int Length { get; set; }

    /// <summary>Bytes held by the cache.</summary>
    public long Bytes => 2L * _keys.Length * sizeof(float);

    public void Clear() => Length = 0;

    public Span<float> Key(int layer, int pos) => _keys.AsSpan((int)(((long)layer * Capacity + pos) * KvDim), KvDim);

    public Span<float> Value(int layer, int pos) => _values.AsSpan((int)(((long)layer * Capacity + pos) * KvDim), KvDim);

    /// <summary>All keys of a layer for positions [0, count), contiguous.</summary>
    public ReadOnlySpan<float> Keys(int layer, int count) => _keys.AsSpan((int)((long)layer * Capacity * KvDim), count * KvDim);

    public ReadOnlySpan<float> Values(int layer, int count) => _values.AsSpan((int)((long)layer * Capacity * KvDim), count * KvDim);
}
