using EdgeAgent.Inference.Generation;
using LLama.Native;
using Xunit.Abstractions;
namespace EdgeAgent.Inference.Tests.LlamaCpp;
public class TmpDiag(QuantizedModelsFixture models, ITestOutputHelper output) : IClassFixture<QuantizedModelsFixture>
{
    [Fact]
    public void Diag()
    {
        int[] prompt = [1, 17, 300, 42, 511, 3, 99, 256, 128, 7, 400, 64];
        var q = models.Get(LLamaFtype.MOSTLY_Q6_K);
        var refF = LlamaCppLogits.AllPositions(models.F32Path, prompt);
        var refQ = LlamaCppLogits.AllPositions(q, prompt);
        float[] Ours(string p) { using var s = InferenceSession.Open(p, 2, 64); var all = new float[prompt.Length * 512]; s.Cache.Clear(); s.Transformer.Forward(prompt, s.Cache, all, true); return all; }
        var oF = Ours(models.F32Path); var oQ = Ours(q);
        double D(float[] a, float[] b, int pos) { double m = 0; for (int i = 0; i < 512; i++) m = Math.Max(m, Math.Abs(a[pos*512+i] - b[pos*512+i])); return m; }
        var deq = Path.Combine(models.Dir, "deq.gguf");
        using (var f = EdgeAgent.Inference.Gguf.GgufFile.Open(q))
        {
            var w = new EdgeAgent.Inference.Gguf.GgufWriter();
            foreach (var k in f.Metadata.Keys) w.Set(k, f.Metadata[k]!);
            foreach (var t in f.Tensors) w.AddTensor(t.Name, t.Dimensions, f.ReadAsFloat32(t));
            w.Write(deq);
        }
        var oD = Ours(deq);
        var seqQ = LlamaCppLogits.Sequential(q, prompt);
        for (int pos = 0; pos < prompt.Length; pos++) output.WriteLine($"seq pos {pos}: llamaSeqQ-oursQ {D(seqQ,oQ,pos):F4} llamaSeqQ-llamaQ {D(seqQ,refQ,pos):F4} oursQ-oursDeq {D(oQ,oD,pos):F4}");
        var refD = LlamaCppLogits.AllPositions(deq, prompt);
        for (int pos = 0; pos < prompt.Length; pos++) output.WriteLine($"deq pos {pos}: llamaQ-oursDeq {D(refQ,oD,pos):F4} llamaDeq-oursDeq {D(refD,oD,pos):F4} llamaQ-llamaDeq {D(refQ,refD,pos):F4}");
        for (int pos = 0; pos < prompt.Length; pos++)
            output.WriteLine($"pos {pos}: llamaF-oursF {D(refF,oF,pos):F4} llamaQ-llamaF {D(refQ,refF,pos):F4} oursQ-oursF {D(oQ,oF,pos):F4} llamaQ-oursQ {D(refQ,oQ,pos):F4}");
    }
}
