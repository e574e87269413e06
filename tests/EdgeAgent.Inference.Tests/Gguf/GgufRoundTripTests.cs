using EdgeAgent.Inference.Gguf;
using EdgeAgent.Tensors.Quants;

namespace EdgeAgent.Inference.Tests.Gguf;

public class GgufRoundTripTests
{
    [Fact]
    public void MetadataOfEveryTypeAndTensorsSurviveARoundTrip()
    {
        var w = new GgufWriter();
        w.Set("general.architecture", "llama")
         .Set("u32", 7u).Set("i32", -3).Set("f32", 1.5f).Set("flag", true)
         .Set("strings", new[] { "a", "βγ", "" })
         .Set("floats", new[] { 1f, -2f })
         .Set("ints", new[] { 1, 2, 3 })
         .Set("u8", new GgufValue(GgufValueType.UInt8, (byte)200))
         .Set("i64", GgufValue.Of(-5L))
         .Set("f64", GgufValue.Of(2.25))
         .Set("nested", new GgufValue(GgufValueType.Array, new[] { GgufValue.Of(new[] { 1, 2 }), GgufValue.Of(new[] { 3 }) }, GgufValueType.Array));
        var values = Enumerable.Range(0, 64 * 3).Select(i => i * 0.25f).ToArray();
        w.AddTensor("t.weight", [64, 3], values);
        w.AddTensor("bias", [5], [1f, 2f, 3f, 4f, 5f]);

        using var f = GgufFile.FromBytes(w.ToArray());
        Assert.Equal(3u, f.Version);
        Assert.Equal("llama", f.Metadata.GetString("general.architecture"));
        Assert.True(f.Metadata.TryGetInt64("u32", out var u32) && u32 == 7);
        Assert.Equal(-3, f.Metadata.GetInt32("i32", 0));
        Assert.Equal(1.5f, f.Metadata.GetFloat("f32", 0));
        Assert.True(f.Metadata.GetBool("flag", false));
        Assert.Equal(new[] { "a", "βγ", "" }, f.Metadata.GetStringArray("strings"));
        Assert.Equal(new[] { 1f, -2f }, f.Metadata.GetFloatArray("floats"));
        Assert.Equal(new[] { 1, 2, 3 }, f.Metadata.GetInt32Array("ints"));
        Assert.Equal(200, f.Metadata.GetInt32("u8", 0));
        Assert.True(f.Metadata.TryGetInt64("i64", out var i64) && i64 == -5);
        Assert.Equal(2.25f, f.Metadata.GetFloat("f64", 0));
        var nested = (GgufValue[])f.Metadata["nested"]!.Value;
        Assert.Equal(new[] { 3 }, (int[])nested[1].Value);

        Assert.Equal(2, f.Tensors.Count);
        var t = f.GetTensor("t.weight");
        Assert.Equal(GgmlType.F32, t.Type);
        Assert.Equal(new long[] { 64, 3 }, t.Dimensions);
        Assert.Equal(0, (f.DataOffset + t.Offset) % 32);
        Assert.Equal(values, f.ReadAsFloat32(t));
        Assert.Equal(new[] { 1f, 2f, 3f, 4f, 5f }, f.ReadAsFloat32(f.GetTensor("bias")));
    }

    [Fact]
    public void FileOnDiskIsMemoryMappedAndCustomAlignmentIsHonoured()
    {
        var path = Path.Combine(Path.GetTempPath(), $"rt-{Guid.NewGuid():N}.gguf");
        try
        {
            var w = new GgufWriter { Alignment = 64 };
            w.AddTensor("a", [32], new float[32]);
            w.AddTensor("b", [32], Enumerable.Range(0, 32).Select(i => (float)i).ToArray());
            w.Write(path);
            using var f = GgufFile.Open(path);
            Assert.Equal(64u, f.Alignment);
            Assert.Equal(0, f.DataOffset % 64);
            Assert.Equal(0, f.GetTensor("b").Offset % 64);
            Assert.Equal(31f, f.ReadAsFloat32(f.GetTensor("b"))[31]);
            Assert.Equal(new FileInfo(path).Length, f.FileSize);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
