using EdgeAgent.Inference.Generation;
using EdgeAgent.Inference.Model;
using EdgeAgent.Inference.Sampling;
using EdgeAgent.Inference.Tests.LlamaCpp;
using LLama.Native;

namespace EdgeAgent.Inference.Tests.Model;

/// <summary>After warm-up a decode step allocates nothing on the decoding thread (a counter, not a timing).</summary>
public sealed class DecodeAllocationTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"edgeagent-alloc-{Guid.NewGuid():N}");

    public DecodeAllocationTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("F32")]
    [InlineData("MOSTLY_Q4_0")]
    [InlineData("MOSTLY_Q8_0")]
    [InlineData("MOSTLY_Q4_K_M")]
    public void DecodeStepsAllocateNothingAfterWarmUp(string type)
    {
        string path = Path.Combine(_dir, "f32.gguf");
        RandomModel.Write(path, new RandomModelShape("llama", Dim: 256, Layers: 2, Heads: 4, KvHeads: 2, FfnDim: 512, VocabSize: 512), seed: 3);
        if (type != "F32")
        {
            string q = Path.Combine(_dir, $"{type}.gguf");
            LlamaCppLogits.Quantize(path, q, Enum.Parse<LLamaFtype>(type));
            path = q;
        }
        using var session = InferenceSession.Open(path, threads: 2, contextLength: 128);
        session.Evaluate([1, 2, 3, 4, 5, 6, 7, 8]);
        Span<int> one = stackalloc int[1];
        for (int i = 0; i < 8; i++)
        {
            one[0] = SamplerChain.ArgMax(session.Logits);
            session.Append(one);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 32; i++)
        {
            one[0] = SamplerChain.ArgMax(session.Logits);
            session.Append(one);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }
}
