namespace EdgeAgent.Inference.Gguf;

/// <summary>Metadata value types of the GGUF format (gguf.h <c>enum gguf_type</c>); ids are part of the file format.</summary>
public enum GgufValueType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

/// <summary>
/// One metadata value. Scalars hold the boxed CLR value of their exact type (<see cref="byte"/>, <see cref="sbyte"/>,
/// …, <see cref="string"/>); arrays hold a typed CLR array (<c>float[]</c>, <c>string[]</c>, …) with
/// <see cref="ElementType"/> set, and nested arrays hold <c>GgufValue[]</c>.
/// </summary>
public sealed record GgufValue(GgufValueType Type, object Value, GgufValueType ElementType = GgufValueType.UInt8)
{
    public static GgufValue Of(string v) => new(GgufValueType.String, v);
    public static GgufValue Of(uint v) => new(GgufValueType.UInt32, v);
    public static GgufValue Of(int v) => new(GgufValueType.Int32, v);
    public static GgufValue Of(ulong v) => new(GgufValueType.UInt64, v);
    public static GgufValue Of(long v) => new(GgufValueType.Int64, v);
    public static GgufValue Of(float v) => new(GgufValueType.Float32, v);
    public static GgufValue Of(double v) => new(GgufValueType.Float64, v);
    public static GgufValue Of(bool v) => new(GgufValueType.Bool, v);
    public static GgufValue Of(string[] v) => new(GgufValueType.Array, v, GgufValueType.String);
    public static GgufValue Of(float[] v) => new(GgufValueType.Array, v, GgufValueType.Float32);
    public static GgufValue Of(int[] v) => new(GgufValueType.Array, v, GgufValueType.Int32);
    public static GgufValue Of(uint[] v) => new(GgufValueType.Array, v, GgufValueType.UInt32);
    public static GgufValue Of(byte[] v) => new(GgufValueType.Array, v, GgufValueType.UInt8);
    public static GgufValue Of(bool[] v) => new(GgufValueType.Array, v, GgufValueType.Bool);

    /// <summary>Number of array elements, or 1 for a scalar.</summary>
    public long Count => Value is Array a ? a.LongLength : 1;

    /// <summary>Short human-readable rendering (arrays abbreviated), for <c>info</c>.</summary>
    public override string ToString() => Value switch
    {
        string s => s.Length > 80 ? $"\"{s[..77]}...\" ({s.Length} chars)" : $"\"{s}\"",
        Array a => $"[{ElementType} x {a.LongLength}]",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => Value.ToString() ?? "",
    };
}
