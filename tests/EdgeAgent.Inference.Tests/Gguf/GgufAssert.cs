using EdgeAgent.Inference.Gguf;

namespace EdgeAgent.Inference.Tests.Gguf;

/// <summary>Assertions for hostile-input tests: the reader may only fail with a one-line
/// <see cref="GgufFormatException"/>, and may not allocate more than a small multiple of the file size.</summary>
internal static class GgufAssert
{
    /// <summary>The most managed memory one parse may allocate: a small multiple of the file size, plus slack for
    /// the exception, its message and one-time static initialisation.</summary>
    public static long AllocationBound(long fileSize) => 64 * fileSize + 64 * 1024;

    /// <summary>Longest acceptable message (a hostile name must be shortened, not echoed in full).</summary>
    public const int MaxMessageLength = 512;

    /// <summary>
    /// Asserts that <paramref name="bytes"/> is rejected both in memory and as a memory-mapped file, each time with a
    /// one-line <see cref="GgufFormatException"/> mentioning every string in <paramref name="mentions"/>, within
    /// the allocation bound. Returns the in-memory message.
    /// </summary>
    public static string Rejects(byte[] bytes, params string[] mentions)
    {
        long allocated = AllocatedWhileParsing(bytes, out var error);
        if (error is null)
        {
            throw new Xunit.Sdk.XunitException($"a {bytes.Length}-byte file was accepted; expected a GgufFormatException");
        }
        CheckMessage(error.Message, mentions);
        CheckAllocation(allocated, bytes.Length);

        using var file = new TempFile(bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var opened = Assert.Throws<GgufFormatException>(() => GgufFile.Open(file.Path).Dispose());
        CheckAllocation(GC.GetAllocatedBytesForCurrentThread() - before, bytes.Length);
        Assert.StartsWith(file.Path + ": ", opened.Message, StringComparison.Ordinal);
        CheckMessage(opened.Message, bytes.Length < 24 ? [] : mentions);
        return error.Message;
    }

    /// <summary>Parses <paramref name="bytes"/> in memory, returning the managed bytes allocated and the format error
    /// (null when the file was accepted). Any other exception escapes.</summary>
    public static long AllocatedWhileParsing(byte[] bytes, out GgufFormatException? error)
    {
        error = null;
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            using var f = GgufFile.FromBytes(bytes);
        }
        catch (GgufFormatException e)
        {
            error = e;
        }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    public static void CheckAllocation(long allocated, long fileSize) =>
        Assert.True(allocated <= AllocationBound(fileSize),
            $"parsing a {fileSize}-byte file allocated {allocated} bytes (bound {AllocationBound(fileSize)})");

    /// <summary>One line, printable, of bounded length, and naming what it is about.</summary>
    public static void CheckMessage(string message, params string[] mentions)
    {
        Assert.False(string.IsNullOrWhiteSpace(message), "empty message");
        Assert.True(message.Length <= MaxMessageLength, $"message of {message.Length} chars: {message[..Math.Min(message.Length, MaxMessageLength)]}...");
        Assert.False(message.Any(ch => char.IsControl(ch) || ch is '\u2028' or '\u2029'), $"multi-line message: {message.ReplaceLineEndings("\\n")}");
        foreach (var m in mentions)
        {
            Assert.Contains(m, message, StringComparison.Ordinal);
        }
    }

    /// <summary>A uniquely named file in the temp folder, deleted on dispose.</summary>
    public sealed class TempFile : IDisposable
    {
        public TempFile(byte[]? contents = null)
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"gguf-hostile-{Guid.NewGuid():N}.gguf");
            if (contents is not null)
            {
                File.WriteAllBytes(Path, contents);
            }
        }

        public string Path { get; }

        public void Dispose() => File.Delete(Path);
    }
}
