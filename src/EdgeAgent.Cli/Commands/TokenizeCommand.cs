using System.CommandLine;
using EdgeAgent.Inference.Gguf;
using EdgeAgent.Inference.Llama2c;
using EdgeAgent.Inference.Tokenizers;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgeagent tokenize</c>: token ids of a text (no BOS/EOS, special-token text not parsed).</summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var prompt = new Option<string?>("--prompt", "-p") { Description = "Text to tokenize." };
        var file = new Option<string?>("--file", "-f") { Description = "File whose UTF-8 text to tokenize." };
        var json = CommonOptions.Json();
        var cmd = new Command("tokenize", "Print the token ids of a text, comma-separated (no BOS/EOS added; special-token text is not parsed).")
        {
            model, prompt, file, json,
        };
        cmd.SetAction(r => CliRunner.Run(() =>
        {
            string? text = r.GetValue(prompt), textFile = r.GetValue(file);
            if ((text is null) == (textFile is null))
            {
                throw new UserErrorException("give exactly one of --prompt (-p) and --file (-f)");
            }
            text ??= CommonOptions.ReadText(textFile!);
            // Only the vocabulary is needed: vocab-only GGUF files work too.
            string path = r.GetValue(model)!;
            using var gguf = Llama2cImporter.LooksLikeCheckpoint(path) ? GgufFile.FromBytes(Llama2cImporter.Import(path).ToArray()) : GgufFile.Open(path);
            var ids = Tokenizer.FromGguf(gguf.Metadata).Encode(text, addSpecial: false, parseSpecial: false);
            if (r.GetValue(json))
            {
                CliRunner.WriteJson(new { ids });
            }
            else
            {
                Console.Out.WriteLine(string.Join(",", ids));
            }
            return 0;
        }));
        return cmd;
    }
}
