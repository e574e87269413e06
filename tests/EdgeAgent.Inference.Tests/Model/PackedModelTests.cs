using EdgeAgent.Inference.Gguf;
using EdgeAgent.Inference.Model;
using EdgeAgent.Inference.Tests.LlamaCpp;
using EdgeAgent.Tensors.Threading;
using LLama.Native;

namespace EdgeAgent.Inference.Tests.Model;

/// <summary>A model with its matrices made resident at load (Q4_0, Q8_0 and Q4_K repacked where AVX-512 is there, the others
/// copied) gives bit-identical logits to the file layout, over a prefill and decode steps; the copies hold the file's
/// bytes once.</summary>
public sealed unsafe class PackedModelTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"edgeagent-packed-{Guid.NewGuid():N}");

    public PackedModelTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("MOSTLY_Q4_0", Tensors.Quants.GgmlType.Q4_0)]
    [InlineData("MOSTLY_Q8_0", Tensors.Quants.GgmlType.Q8_0)]
    [InlineData("MOSTLY_Q4_K_M", Tensors.Quants.GgmlType.Q4_K)]
    public void PackedAndFileLayoutLogitsAreBitIdentical(string ftype, Tensors.Quants.GgmlType type)
    {
        string f32 = Path.Combine(_dir, "f32.gguf"), q4 = Path.Combine(_dir, "q.gguf");
        RandomModel.Write(f32, new RandomModelShape("llama", Dim: 256, Layers: 2, Heads: 4, KvHeads: 2, FfnDim: 512, VocabSize: 512), seed: 11);
        LlamaCppLogits.Quantize(f32, q4, Enum.Parse<LLamaFtype>(ftype));

        using var file = GgufFile.Open(q4);
        var config = ModelConfig.FromGguf(file);
        using var packed = ModelWeights.FromGguf(file, config, pack: true);
        using var plain = ModelWeights.FromGguf(file, config, pack: false);
        Assert.Null(plain.Packing);
        Assert.Equal(type, file.GetTensor("blk.0.ffn_gate.weight").Type);
        // Every matrix is resident once (packed where it has a packed layout here, copied otherwise), in the owner's
        // memory rather than the file's mapping: the copies hold the file's bytes once.
        bool tied = file.FindTensor("output.weight") is null;
        long matrixBytes = file.Tensors.Where(t => t.Dimensions.Length == 2 && (tied || t.Name != "token_embd.weight")).Sum(t => t.ByteSize);
        Assert.Equal(matrixBytes, packed.Packing!.Bytes);
        static bool Resident(in Tensors.Kernels.WeightMatrix w, in Tensors.Kernels.WeightMatrix inFile) => w.Packed != null || w.Data != inFile.Data;
        Assert.True(Resident(packed.Layers[0].WGate, plain.Layers[0].WGate));
        Assert.True(Resident(packed.Output, plain.Output));
        Assert.Equal(Tensors.Kernels.PackedWeights.CanPack(plain.Layers[0].WGate), packed.Layers[0].WGate.Packed != null);

        using var pool = new ComputePool(2);
        var a = new Transformer(config, packed, pool, 64);
        var b = new Transformer(config, plain, pool, 64);
        var ca = new KvCache(config, 64);
        var cb = new KvCache(config, 64);
        var la = new float[config.VocabSize];
        var lb = new float[config.VocabSize];
        int[] prompt = [1, 5, 9, 200, 17, 3, 3, 400, 12];
        a.Forward(prompt, ca, la);
        b.Forward(prompt, cb, lb);
        Assert.Equal(lb, la);
        for (int step = 0; step < 6; step++)
        {
            int next = Array.IndexOf(la, la.Max());
            a.Forward([next], ca, la);
            b.Forward([next], cb, lb);
            for (int i = 0; i < la.Length; i++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(lb[i]), BitConverter.SingleToInt32Bits(la[i]));
            }
        }
    }

    /// <summary>The last layer runs attention and the FFN only for the rows whose logits are asked for (and none for
    /// a chunk without logits): the last token's logits and every cached k and v are bit-identical to a run that
    /// computes every row, in one batch or in chunks, and the decode steps after it agree too.</summary>
    [Theory]
    [InlineData("MOSTLY_Q4_0")]
    [InlineData("MOSTLY_Q4_K_M")]
    public void TheLastLayerSkipsRowsWithoutLogitsAndChangesNoBit(string ftype)
    {
        string f32 = Path.Combine(_dir, "f32.gguf"), q = Path.Combine(_dir, "q.gguf");
        RandomModel.Write(f32, new RandomModelShape("llama", Dim: 256, Layers: 2, Heads: 4, KvHeads: 2, FfnDim: 512, VocabSize: 512), seed: 12);
        LlamaCppLogits.Quantize(f32, q, Enum.Parse<LLamaFtype>(ftype));
        using var file = GgufFile.Open(q);
        var config = ModelConfig.FromGguf(file);
        using var weights = ModelWeights.FromGguf(file, config, pack: true);
        using var pool = new ComputePool(2);
        var every = new Transformer(config, weights, pool, 64);
        var skipping = new Transformer(config, weights, pool, 64);
        var chunked = new Transformer(config, weights, pool, 64, maxBatch: 4); // chunks of 4, 4, 1: two without logits
        var ce = new KvCache(config, 64);
        var cs = new KvCache(config, 64);
        var cc = new KvCache(config, 64);
        int v = config.VocabSize;
        int[] prompt = [1, 5, 9, 200, 17, 3, 3, 400, 12];
        var all = new float[prompt.Length * v];
        var ls = new float[v];
        var lc = new float[v];
        every.Forward(prompt, ce, all, allLogits: true);
        skipping.Forward(prompt, cs, ls);
        chunked.Forward(prompt, cc, lc);
        var lastRow = all.AsSpan((prompt.Length - 1) * v, v).ToArray();
        Assert.Equal(lastRow.Select(BitConverter.SingleToInt32Bits), ls.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(lastRow.Select(BitConverter.SingleToInt32Bits), lc.Select(BitConverter.SingleToInt32Bits));
        for (int l = 0; l < config.Layers; l++)
        {
            var keys = ce.Keys(l, prompt.Length).ToArray();
            Assert.Equal(keys, cs.Keys(l, prompt.Length).ToArray());
            Assert.Equal(keys, cc.Keys(l, prompt.Length).ToArray());
            for (int ch = 0; ch < config.KvDim; ch++)
            {
                var values = ce.ValueChannel(l, ch)[..prompt.Length].ToArray();
                Assert.Equal(values, cs.ValueChannel(l, ch)[..prompt.Length].ToArray());
                Assert.Equal(values, cc.ValueChannel(l, ch)[..prompt.Length].ToArray());
            }
        }
        var le = lastRow;
        for (int step = 0; step < 4; step++)
        {
            int next = Array.IndexOf(le, le.Max());
            le = new float[v];
            every.Forward([next], ce, le);
            skipping.Forward([next], cs, ls);
            Assert.Equal(le.Select(BitConverter.SingleToInt32Bits), ls.Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Fact]
    public void ReadTensorBytesReadsTheFileAndRefusesRangesOutsideTheTensor()
    {
        string path = Path.Combine(_dir, "small.gguf");
        RandomModel.Write(path, new RandomModelShape("llama", Dim: 64, Layers: 1, Heads: 2, KvHeads: 1, FfnDim: 128, VocabSize: 300), seed: 2);
        using var file = GgufFile.Open(path);
        var t = file.GetTensor("blk.0.ffn_up.weight");
        var all = new byte[t.ByteSize];
        file.ReadTensorBytes(t, 0, all);
        Assert.True(all.AsSpan().SequenceEqual(file.GetTensorData(t)));
        var tail = new byte[100];
        file.ReadTensorBytes(t, t.ByteSize - 100, tail);
        Assert.True(tail.AsSpan().SequenceEqual(file.GetTensorData(t)[^100..]));
        Assert.Throws<ArgumentOutOfRangeException>(() => file.ReadTensorBytes(t, t.ByteSize - 99, tail));
        Assert.Throws<ArgumentOutOfRangeException>(() => file.ReadTensorBytes(t, -1, tail));
    }
}
