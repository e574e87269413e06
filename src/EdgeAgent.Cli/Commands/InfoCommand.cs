using System.CommandLine;
using EdgeAgent.Inference.Model;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgeagent info</c>: architecture, hyper-parameters, tokenizer, tensor types and sizes.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var json = CommonOptions.Json();
        var cmd = new Command("info", "Describe a model: architecture, hyper-parameters, tokenizer kind, tensor types with their share of bytes, file size.")
        {
            model, json,
        };
        cmd.SetAction(r => CliRunner.Run(() =>
        {
            string path = r.GetValue(model)!;
            using var m = LlamaModel.Load(path);
            var c = m.Config;
            var f = m.File;
            long tensorBytes = f.Tensors.Sum(t => t.ByteSize);
            var types = f.Tensors.GroupBy(t => t.Type)
                .Select(g => new { type = g.Key.ToString(), tensors = g.Count(), bytes = g.Sum(t => t.ByteSize), share = tensorBytes == 0 ? 0 : (double)g.Sum(t => t.ByteSize) / tensorBytes })
                .OrderByDescending(x => x.bytes).ToList();
            long parameters = f.Tensors.Sum(t => t.ElementCount);
            string tokenizer = f.Metadata.GetString("tokenizer.ggml.model") ?? "none";
            var info = new
            {
                path,
                format = path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? "gguf" : f.Path is null ? "llama2c" : "gguf",
                architecture = c.Architecture,
                name = f.Metadata.GetString("general.name"),
                dim = c.Dim,
                layers = c.Layers,
                heads = c.Heads,
                kv_heads = c.KvHeads,
                head_dim = c.HeadDim,
                ffn_dim = c.FfnDim,
                vocab_size = c.VocabSize,
                context_length = c.ContextLength,
                rope_base = c.RopeBase,
                rope_dim = c.RopeDim,
                rms_eps = c.RmsEps,
                tied_output = m.Weights.TiedOutput,
                tokenizer,
                chat_template = f.Metadata.Contains("tokenizer.chat_template"),
                tensor_count = f.Tensors.Count,
                parameters,
                types,
                file_bytes = f.Path is null ? f.FileSize : new FileInfo(path).Length,
                gguf_version = f.Version,
            };
            if (r.GetValue(json))
            {
                CliRunner.WriteJson(info);
                return 0;
            }
            var o = Console.Out;
            o.WriteLine($"model        {path} ({info.format}, {info.file_bytes:N0} bytes)");
            o.WriteLine($"architecture {c.Architecture}{(info.name is null ? "" : $" \"{info.name}\"")}");
            o.WriteLine($"shape        dim {c.Dim}, layers {c.Layers}, heads {c.Heads} (kv {c.KvHeads}, head dim {c.HeadDim}), ffn {c.FfnDim}, vocab {c.VocabSize}");
            o.WriteLine($"context      {c.ContextLength}; rope base {c.RopeBase}, dim {c.RopeDim}, {c.RopeStyle}; rms eps {c.RmsEps}");
            o.WriteLine($"output head  {(m.Weights.TiedOutput ? "tied to the embedding" : "separate")}");
            o.WriteLine($"tokenizer    {tokenizer}{(info.chat_template ? ", chat template" : "")}");
            o.WriteLine($"tensors      {f.Tensors.Count}, {parameters:N0} parameters, {tensorBytes:N0} bytes");
            foreach (var t in types)
            {
                o.WriteLine($"  {t.type,-7} {t.tensors,4} tensors {t.bytes,14:N0} bytes {t.share,7:P1}");
            }
            return 0;
        }));
        return cmd;
    }
}
