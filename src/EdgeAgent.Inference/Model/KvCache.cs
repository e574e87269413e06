namespace EdgeAgent.Inference.Model;

/// <summary>
/// Keys and values of every layer for positions [0, <see cref="Capacity"/>), float32. Keys are laid out
/// (layer, position, K·Hd); values are stored transposed, (layer, K·Hd, position), as llama.cpp stores them
/// without flash attention, so each output channel of attention is one contiguous dot product over positions.
/// <see cref="Length"/> is how many positions are filled; a new sequence clears it.
/// </summary>
public sealed class KvCache
{
    private readonly float[] _keys;
    private readonly float[] _values;

    public KvCache(ModelConfig config, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        // Rounded up to 64 positions so attention can always read whole 64-element steps of a channel.
        Capacity = capacity;
        Stride = (capacity + 63) & ~63;
        Layers = config.Layers;
        KvDim = config.KvDim;
        long size = (long)Layers * Stride * KvDim;
        if (size > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), $"a KV cache of {capacity} positions does not fit in one array; use a smaller context");
        }
        _keys = new float[size];
        _values = new float[size];
    }

    public int Capacity { get; }

    /// <summary>Positions allocated per channel (Capacity rounded up to 64).</summary>
    public int Stride { get; }

    public int Layers { get; }
    public int KvDim { get; }

    /// <summary>Filled positions.</summary>
    public int Length { get; set; }

    /// <summary>Bytes held by the cache.</summary>
    public long Bytes => 2L * _keys.Length * sizeof(float);

    public void Clear() => Length = 0;

    /// <summary>Key vector (K·Hd) of one position.</summary>
    public Span<float> Key(int layer, int pos) => _keys.AsSpan((int)(((long)layer * Stride + pos) * KvDim), KvDim);

    /// <summary>All keys of a layer for positions [0, count), contiguous.</summary>
    public ReadOnlySpan<float> Keys(int layer, int count) => _keys.AsSpan((int)((long)layer * Stride * KvDim), count * KvDim);

    /// <summary>Writes the value vector (K·Hd) of one position into the transposed layout.</summary>
    public void StoreValue(int layer, int pos, ReadOnlySpan<float> v)
    {
        int baseIndex = (int)((long)layer * KvDim * Stride) + pos;
        for (int c = 0; c < v.Length; c++)
        {
            _values[baseIndex + c * Stride] = v[c];
        }
    }

    /// <summary>
    /// Copies the keys and values of positions [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>)
    /// from <paramref name="source"/>, a cache of the same model (beam search forks a sequence this way).
    /// Does not change <see cref="Length"/>.
    /// </summary>
    public void CopyFrom(KvCache source, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Layers != Layers || source.KvDim != KvDim)
        {
            throw new ArgumentException("the caches belong to different model shapes", nameof(source));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (start + count > Capacity || start + count > source.Capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "the range is outside one of the caches");
        }
        if (count == 0 || ReferenceEquals(source, this))
        {
            return;
        }
        for (int l = 0; l < Layers; l++)
        {
            source._keys.AsSpan((int)(((long)l * source.Stride + start) * KvDim), count * KvDim)
                .CopyTo(_keys.AsSpan((int)(((long)l * Stride + start) * KvDim)));
            for (int c = 0; c < KvDim; c++)
            {
                source._values.AsSpan((int)(((long)l * KvDim + c) * source.Stride) + start, count)
                    .CopyTo(_values.AsSpan((int)(((long)l * KvDim + c) * Stride) + start));
            }
        }
    }

    /// <summary>Values of one channel of a layer over positions [0, Stride).</summary>
    public ReadOnlySpan<float> ValueChannel(int layer, int channel) => _values.AsSpan((int)(((long)layer * KvDim + channel) * Stride), Stride);

    /// <summary>Values of <paramref name="count"/> consecutive channels of a layer, each over positions [0, Stride),
    /// channel after channel (<see cref="Stride"/> apart).</summary>
    public ReadOnlySpan<float> ValueChannels(int layer, int channel, int count) =>
        _values.AsSpan((int)(((long)layer * KvDim + channel) * Stride), count * Stride);
}
