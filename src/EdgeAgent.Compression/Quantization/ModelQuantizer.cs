using System.Diagnostics;
using EdgeAgent.Compression.Calibration;
using EdgeAgent.Compression.Model;
using EdgeAgent.Inference.Gguf;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Compression.Quantization;

/// <summary>Quantization methods of <c>edgeagent quantize</c>.</summary>
public enum QuantMethod
{
    Ggml,
    Affine,
    Symmetric,
    Log2,
    NF4,
    KMeans,
    Gptq,
    Awq,
}

/// <summary>Settings of one quantization run.</summary>
public sealed record QuantizeOptions
{
    public QuantMethod Method { get; init; } = QuantMethod.Affine;

    /// <summary>Target type of <see cref="QuantMethod.Ggml"/>.</summary>
    public GgmlType GgmlType { get; init; } = GgmlType.Q4_K;

    public int Bits { get; init; } = 4;
    public int Group { get; init; } = 32;

    /// <summary>Store 2:4-sparse matrices in the sparse format (not for <see cref="QuantMethod.Ggml"/>, whose point is llama.cpp compatibility).</summary>
    public bool Sparse { get; init; } = true;

    /// <summary>Mixed precision: token embeddings and the output head at 8 bits (Q8_0).</summary>
    public bool KeepSensitive { get; init; } = true;

    /// <summary>MSE-optimal range clipping (always on with calibration).</summary>
    public bool ClipSearch { get; init; }

    public GptqOptions Gptq { get; init; } = new();

    public bool NeedsCalibration => Method is QuantMethod.Gptq or QuantMethod.Awq;

    /// <summary>The group format the method writes (not for ggml).</summary>
    public EdgeQuantFamily Family => Method switch
    {
        QuantMethod.Symmetric => EdgeQuantFamily.Symmetric,
        QuantMethod.Log2 => EdgeQuantFamily.Log2,
        QuantMethod.NF4 => EdgeQuantFamily.NF4,
        QuantMethod.KMeans => EdgeQuantFamily.KMeans,
        _ => EdgeQuantFamily.Affine,
    };

    /// <summary>Checks the combination; every problem is an <see cref="ArgumentException"/> with a one-line message.</summary>
    public void Validate(bool hasCalibration)
    {
        if (Bits is < 2 or > 8)
        {
            throw new ArgumentException($"--bits {Bits} is outside 2..8");
        }
        if (NeedsCalibration && !hasCalibration)
        {
            throw new ArgumentException($"--method {Method.ToString().ToLowerInvariant()} needs --calibration TEXTFILE");
        }
        if (Method == QuantMethod.Ggml)
        {
            if (!GgmlQuantizer.Supported.Contains(GgmlType))
            {
                throw new ArgumentException($"--type {GgmlType} is not one of {string.Join(", ", GgmlQuantizer.Supported)}");
            }
            return;
        }
        if (!EdgeQuantTypes.GroupSizes.Contains(Group))
        {
            throw new ArgumentException($"--group {Group} is not one of 32, 64, 128, 256");
        }
        var (min, max) = EdgeQuantTypes.BitRange(Family);
        if (Bits < min || Bits > max)
        {
            throw new ArgumentException(min == max
                ? $"--method {Method.ToString().ToLowerInvariant()} is {min}-bit only"
                : $"--method {Method.ToString().ToLowerInvariant()} supports --bits {min}..{max}");
        }
    }
}

/// <summary>What a quantization run produced.</summary>
public sealed record QuantizeResult(double BitsPerWeight, long Bytes, double Seconds, bool LlamaCppCompatible, IReadOnlyDictionary<string, GgmlType> Types);

/// <summary>Quantizes a float model tensor by tensor and writes the GGUF.</summary>
public static class ModelQuantizer
{
    private static readonly Dictionary<GgmlType, uint> LlamaFtypes = new()
    {
        [GgmlType.Q4_0] = 2, [GgmlType.Q4_1] = 3, [GgmlType.Q8_0] = 7, [GgmlType.Q5_0] = 8, [GgmlType.Q5_1] = 9,
        [GgmlType.Q4_K] = 14, [GgmlType.Q5_K] = 16, [GgmlType.Q6_K] = 18, [GgmlType.IQ4_NL] = 25,
    };

    /// <summary>True for the tensors mixed precision keeps at more bits.</summary>
    public static bool IsSensitive(string name) => name is "token_embd.weight" or "output.weight";

    /// <summary>The type each tensor gets.</summary>
    public static GgmlType TypeFor(FloatTensor t, QuantizeOptions o)
    {
        if (!t.IsMatrix)
        {
            return GgmlType.F32;
        }
        if (o.KeepSensitive && IsSensitive(t.Name))
        {
            return t.Cols % 32 == 0 ? GgmlType.Q8_0 : GgmlType.F16;
        }
        if (o.Method == QuantMethod.Ggml)
        {
            return GgmlQuantizer.Fallback(o.GgmlType, t.Cols);
        }
        if (t.Cols % 32 != 0)
        {
            return GgmlType.F16;
        }
        if (o.Sparse && IsTwoFour(t))
        {
            return EdgeQuantTypes.Id(EdgeQuantFamily.Sparse24, o.Bits <= 4 ? 4 : 8, 32);
        }
        int group = o.Group;
        while (t.Cols % group != 0)
        {
            group /= 2;
        }
        return EdgeQuantTypes.Id(o.Family, o.Bits, group);
    }

    private static bool IsTwoFour(FloatTensor t)
    {
        bool anyZero = false;
        for (int r = 0; r < t.Rows; r++)
        {
            if (!Sparse24Format.IsTwoFour(t.Row(r)))
            {
                return false;
            }
            anyZero |= t.Row(r).Contains(0f);
        }
        return anyZero;
    }

    /// <summary>
    /// Quantizes <paramref name="model"/> (changed in place by AWQ) and writes <paramref name="outputPath"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid options (see <see cref="QuantizeOptions.Validate"/>).</exception>
    public static QuantizeResult Run(ModelTensors model, QuantizeOptions o, CalibrationData? calibration, string outputPath, Action<int, int>? progress = null)
    {
        o.Validate(calibration is not null);
        var clock = Stopwatch.StartNew();
        Dictionary<string, float[]> awqScales = [];
        if (o.Method == QuantMethod.Awq)
        {
            awqScales = Awq.Apply(model, calibration!, CodeBlockFormat.Get(EdgeQuantFamily.Affine, o.Bits, o.Group));
        }
        var types = model.Tensors.ToDictionary(t => t.Name, t => TypeFor(t, o));
        var encoded = new Dictionary<string, byte[]>();
        int done = 0;
        foreach (var t in model.Tensors)
        {
            encoded[t.Name] = Encode(t, types[t.Name], o, calibration, awqScales);
            progress?.Invoke(++done, model.Tensors.Count);
        }
        var md = model.Metadata;
        md.Remove("general.file_type");
        var matrixTypes = model.Tensors.Where(t => t.IsMatrix && !IsSensitive(t.Name)).Select(t => types[t.Name]).Distinct().ToList();
        bool compatible = types.Values.All(t => !EdgeQuantTypes.IsEdgeType(t));
        if (compatible && matrixTypes.Count == 1 && LlamaFtypes.TryGetValue(matrixTypes[0], out uint ftype))
        {
            md.Set("general.file_type", GgufValue.Of(ftype));
        }
        if (compatible)
        {
            md.Set("general.quantization_version", GgufValue.Of(2u));
        }
        long elements = model.Tensors.Sum(t => t.Data.LongLength);
        long dataBytes = encoded.Values.Sum(b => (long)b.Length);
        double bpw = 8.0 * dataBytes / elements;
        md.Set("edgeagent.quantization.method", GgufValue.Of(o.Method == QuantMethod.Ggml ? $"ggml {o.GgmlType}" : o.Method.ToString().ToLowerInvariant()));
        md.Set("edgeagent.quantization.bits_per_weight", GgufValue.Of((float)bpw));
        model.ToWriter(t => types[t.Name], (t, _) => encoded[t.Name]).Write(outputPath);
        return new QuantizeResult(bpw, new FileInfo(outputPath).Length, clock.Elapsed.TotalSeconds, compatible, types);
    }

    private static byte[] Encode(FloatTensor t, GgmlType type, QuantizeOptions o, CalibrationData? calibration, Dictionary<string, float[]> awqScales)
    {
        if (!EdgeQuantTypes.IsEdgeType(type))
        {
            return o.Method == QuantMethod.Ggml && !IsSensitive(t.Name) ? GgmlQuantizer.Encode(t, type, Importance(t, calibration, awqScales)) : ModelTensors.EncodeReference(t, type);
        }
        EdgeQuantTypes.TryDescribe(type, out var family, out int bits, out int group);
        if (family == EdgeQuantFamily.Sparse24)
        {
            return ModelTensors.EncodeReference(t, type);
        }
        var f = CodeBlockFormat.Get(family, bits, group);
        if (o.Method == QuantMethod.Gptq && calibration?.For(t.Name) is { Hessian: not null } stats)
        {
            return Gptq.Encode(t, stats, f, o.Gptq);
        }
        var importance = Importance(t, calibration, awqScales);
        return GroupQuantizer.Encode(t, f, importance, o.ClipSearch || importance is not null);
    }

    /// <summary>Per-column mean squared activation (divided by s² where AWQ scaled the weights by s).</summary>
    private static float[]? Importance(FloatTensor t, CalibrationData? calibration, Dictionary<string, float[]> awqScales)
    {
        if (calibration?.For(t.Name) is not { } stats)
        {
            return null;
        }
        var imp = stats.MeanSquares();
        if (CalibrationData.InputKey(t.Name) is { } key && awqScales.TryGetValue(key, out var s))
        {
            for (int j = 0; j < imp.Length; j++)
            {
                imp[j] /= s[j] * s[j];
            }
        }
        return imp;
    }
}
