using EdgeAgent.Compression.Model;
using EdgeAgent.Inference.Generation;
using EdgeAgent.Tensors.Kernels;

namespace EdgeAgent.Compression.Calibration;

/// <summary>What to collect while running the calibration text.</summary>
public sealed record CalibrationOptions
{
    /// <summary>Window length, BOS included.</summary>
    public int Context { get; init; } = 128;

    /// <summary>At most this many tokens of the text are used.</summary>
    public int MaxTokens { get; init; } = 4096;

    /// <summary>Collect Σ x·xᵀ per input (GPTQ).</summary>
    public bool Hessian { get; init; }

    /// <summary>Rows kept per input for output-error searches (AWQ).</summary>
    public int Samples { get; init; } = 128;

    public int Threads { get; init; } = Environment.ProcessorCount;
}

/// <summary>
/// Activation statistics of a model over calibration text, one <see cref="InputStatistics"/> per distinct linear
/// input (<see cref="InputKey"/>), plus each block's angular distance between its input and output residual streams
/// (for layer pruning). Collected by running the float model with the forward pass's trace hook.
/// </summary>
public sealed class CalibrationData
{
    public Dictionary<string, InputStatistics> Inputs { get; } = [];

    /// <summary>Per block: mean over tokens of arccos(cos(x_in, x_out))/π.</summary>
    public double[] LayerAngles { get; private set; } = [];

    public long Tokens { get; private set; }

    /// <summary>Name of the activation a weight tensor multiplies: q/k/v share <c>blk.L.attn_in</c>, gate/up share
    /// <c>blk.L.ffn_in</c>, <c>attn_output</c> reads <c>blk.L.attn_out_in</c>, <c>ffn_down</c> reads
    /// <c>blk.L.ffn_down_in</c>, the output head reads <c>output_in</c>. Null for other tensors.</summary>
    public static string? InputKey(string tensor)
    {
        if (tensor == "output.weight")
        {
            return "output_in";
        }
        if (!tensor.StartsWith("blk.", StringComparison.Ordinal))
        {
            return null;
        }
        int dot = tensor.IndexOf('.', 4);
        string p = tensor[..(dot + 1)];
        return tensor[(dot + 1)..] switch
        {
            "attn_q.weight" or "attn_k.weight" or "attn_v.weight" => p + "attn_in",
            "attn_output.weight" => p + "attn_out_in",
            "ffn_gate.weight" or "ffn_up.weight" => p + "ffn_in",
            "ffn_down.weight" => p + "ffn_down_in",
            _ => null,
        };
    }

    /// <summary>Statistics of the input of a weight tensor, if collected.</summary>
    public InputStatistics? For(string tensor) => InputKey(tensor) is { } k ? Inputs.GetValueOrDefault(k) : null;

    /// <summary>Runs <paramref name="model"/> over <paramref name="tokens"/> (windows of BOS + ctx−1 tokens).</summary>
    /// <exception cref="ArgumentException">Fewer tokens than one window.</exception>
    public static CalibrationData Collect(ModelTensors model, IReadOnlyList<int> tokens, int bos, CalibrationOptions options, Action<int, int>? progress = null)
    {
        var c = model.Config;
        int window = options.Context - 1;
        int windows = Math.Min(tokens.Count, options.MaxTokens) / window;
        if (windows == 0)
        {
            throw new ArgumentException($"the calibration text has {tokens.Count} tokens, fewer than one window of {window}");
        }
        var data = new CalibrationData { LayerAngles = new double[c.Layers] };
        InputStatistics Stats(string key, int cols)
        {
            if (!data.Inputs.TryGetValue(key, out var s))
            {
                data.Inputs[key] = s = new InputStatistics(cols, options.Hessian, options.Samples);
            }
            return s;
        }
        var embedding = model["token_embd.weight"];
        var ffnNorms = Enumerable.Range(0, c.Layers).Select(l => model[$"blk.{l}.ffn_norm.weight"].Data).ToArray();
        var outputNorm = model["output_norm.weight"].Data;
        float[] layerIn = new float[options.Context * c.Dim];
        float[] normed = new float[options.Context * c.Dim];
        long angleCount = 0;

        using var llama = model.ToLlamaModel();
        using var session = new InferenceSession(llama, options.Threads, options.Context);
        var input = new int[options.Context];
        int batchStart = 0;
        session.Transformer.Trace = (name, values, count) =>
        {
            int dash = name.LastIndexOf('-');
            string kind = name[..dash];
            int l = int.Parse(name[(dash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            string p = $"blk.{l}.";
            switch (kind)
            {
                case "attn_norm":
                    Stats(p + "attn_in", c.Dim).Add(values, count / c.Dim);
                    break;
                case "kqv_out":
                    Stats(p + "attn_out_in", c.QDim).Add(values, count / c.QDim);
                    break;
                case "ffn_inp":
                    for (int t = 0; t < count / c.Dim; t++)
                    {
                        RmsNorm.Apply(values.AsSpan(t * c.Dim, c.Dim), ffnNorms[l], normed.AsSpan(t * c.Dim, c.Dim), c.RmsEps);
                    }
                    Stats(p + "ffn_in", c.Dim).Add(normed, count / c.Dim);
                    break;
                case "ffn_swiglu":
                    Stats(p + "ffn_down_in", c.FfnDim).Add(values, count / c.FfnDim);
                    break;
                case "l_out":
                    int rows = count / c.Dim;
                    for (int t = 0; t < rows; t++)
                    {
                        var a = layerIn.AsSpan(t * c.Dim, c.Dim);
                        var b = values.AsSpan(t * c.Dim, c.Dim);
                        double cos = System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(a, b);
                        data.LayerAngles[l] += Math.Acos(Math.Clamp(cos, -1, 1)) / Math.PI;
                        b.CopyTo(a);
                    }
                    if (l == c.Layers - 1)
                    {
                        for (int t = 0; t < rows; t++)
                        {
                            RmsNorm.Apply(values.AsSpan(t * c.Dim, c.Dim), outputNorm, normed.AsSpan(t * c.Dim, c.Dim), c.RmsEps);
                        }
                        if (model.Find("output.weight") is not null)
                        {
                            Stats("output_in", c.Dim).Add(normed, rows);
                        }
                        angleCount += rows;
                    }
                    break;
            }
        };
        var logits = new float[options.Context * c.VocabSize];
        for (int w = 0; w < windows; w++)
        {
            input[0] = bos;
            for (int i = 0; i < window; i++)
            {
                input[i + 1] = tokens[(w * window) + i];
            }
            session.Cache.Clear();
            // Feed in batches so the layer-input buffer (the embeddings for block 0) matches each traced batch.
            for (batchStart = 0; batchStart < input.Length; batchStart += 64)
            {
                int n = Math.Min(64, input.Length - batchStart);
                for (int t = 0; t < n; t++)
                {
                    embedding.Row(input[batchStart + t]).CopyTo(layerIn.AsSpan(t * c.Dim, c.Dim));
                }
                session.Transformer.Forward(input.AsSpan(batchStart, n), session.Cache, logits);
            }
            progress?.Invoke(w + 1, windows);
        }
        session.Transformer.Trace = null;
        for (int l = 0; l < c.Layers; l++)
        {
            data.LayerAngles[l] /= Math.Max(1, angleCount);
        }
        data.Tokens = angleCount;
        return data;
    }
}
