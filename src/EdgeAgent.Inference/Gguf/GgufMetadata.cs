using System.Diagnostics.CodeAnalysis;

namespace EdgeAgent.Inference.Gguf;

/// <summary>The key/value metadata of a GGUF file, in file order, with typed accessors that convert between
/// numeric widths where the value fits.</summary>
public sealed class GgufMetadata
{
    private readonly Dictionary<string, GgufValue> _values = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    /// <summary>Keys in file order.</summary>
    public IReadOnlyList<string> Keys => _order;

    public int Count => _order.Count;

    public bool Contains(string key) => _values.ContainsKey(key);

    /// <summary>Adds or replaces a value (replacing keeps the original position).</summary>
    public void Set(string key, GgufValue value)
    {
        if (!_values.ContainsKey(key))
        {
            _order.Add(key);
        }
        _values[key] = value;
    }

    public bool Remove(string key) => _values.Remove(key) && _order.Remove(key);

    public bool TryGet(string key, [NotNullWhen(true)] out GgufValue? value) => _values.TryGetValue(key, out value);

    public GgufValue? this[string key] => _values.GetValueOrDefault(key);

    public bool TryGetString(string key, [NotNullWhen(true)] out string? value)
    {
        value = _values.TryGetValue(key, out var v) ? v.Value as string : null;
        return value is not null;
    }

    public string? GetString(string key) => TryGetString(key, out var s) ? s : null;

    /// <summary>Any integer scalar (or bool) as <see cref="long"/>; false for other types or a UInt64 above long.MaxValue.</summary>
    public bool TryGetInt64(string key, out long value)
    {
        value = 0;
        if (!_values.TryGetValue(key, out var v))
        {
            return false;
        }
        switch (v.Value)
        {
            case byte x: value = x; return true;
            case sbyte x: value = x; return true;
            case ushort x: value = x; return true;
            case short x: value = x; return true;
            case uint x: value = x; return true;
            case int x: value = x; return true;
            case long x: value = x; return true;
            case ulong x when x <= long.MaxValue: value = (long)x; return true;
            case bool x: value = x ? 1 : 0; return true;
            default: return false;
        }
    }

    /// <summary>An integer scalar that fits in <see cref="int"/>.</summary>
    public bool TryGetInt32(string key, out int value)
    {
        value = 0;
        if (TryGetInt64(key, out var l) && l is >= int.MinValue and <= int.MaxValue)
        {
            value = (int)l;
            return true;
        }
        return false;
    }

    public int GetInt32(string key, int fallback) => TryGetInt32(key, out var v) ? v : fallback;

    /// <summary>A float or integer scalar as <see cref="float"/>.</summary>
    public bool TryGetFloat(string key, out float value)
    {
        value = 0;
        if (!_values.TryGetValue(key, out var v))
        {
            return false;
        }
        switch (v.Value)
        {
            case float f: value = f; return true;
            case double d: value = (float)d; return true;
            default:
                if (TryGetInt64(key, out var l))
                {
                    value = l;
                    return true;
                }
                return false;
        }
    }

    public float GetFloat(string key, float fallback) => TryGetFloat(key, out var v) ? v : fallback;

    public bool TryGetBool(string key, out bool value)
    {
        value = false;
        if (_values.TryGetValue(key, out var v) && v.Value is bool b)
        {
            value = b;
            return true;
        }
        return false;
    }

    public bool GetBool(string key, bool fallback) => TryGetBool(key, out var v) ? v : fallback;

    public string[]? GetStringArray(string key) => _values.GetValueOrDefault(key)?.Value as string[];

    /// <summary>A float or integer array as <c>float[]</c> (a copy unless already float32).</summary>
    public float[]? GetFloatArray(string key) => _values.GetValueOrDefault(key)?.Value switch
    {
        float[] f => f,
        double[] d => Array.ConvertAll(d, x => (float)x),
        Array a when ToInt64Array(a) is { } l => Array.ConvertAll(l, x => (float)x),
        _ => null,
    };

    /// <summary>An integer array as <c>int[]</c>; null if absent, not integral, or a value does not fit.</summary>
    public int[]? GetInt32Array(string key)
    {
        if (_values.GetValueOrDefault(key)?.Value is not Array a)
        {
            return null;
        }
        if (a is int[] i)
        {
            return i;
        }
        var l = ToInt64Array(a);
        if (l is null || l.Any(x => x is < int.MinValue or > int.MaxValue))
        {
            return null;
        }
        return Array.ConvertAll(l, x => (int)x);
    }

    private static long[]? ToInt64Array(Array a) => a switch
    {
        byte[] x => Array.ConvertAll(x, v => (long)v),
        sbyte[] x => Array.ConvertAll(x, v => (long)v),
        ushort[] x => Array.ConvertAll(x, v => (long)v),
        short[] x => Array.ConvertAll(x, v => (long)v),
        uint[] x => Array.ConvertAll(x, v => (long)v),
        int[] x => Array.ConvertAll(x, v => (long)v),
        long[] x => x,
        ulong[] x when x.All(v => v <= long.MaxValue) => Array.ConvertAll(x, v => (long)v),
        bool[] x => Array.ConvertAll(x, v => v ? 1L : 0L),
        _ => null,
    };
}
