namespace EdgeAgent.Training.Tests;

/// <summary>Finds the read-only <c>shared/</c> folder beside the repository by walking up from the test binaries:
/// for each ancestor, <c>ancestor/shared</c> and <c>ancestor/../shared</c>.</summary>
internal static class SharedData
{
    private static readonly Lazy<string> s_root = new(Find);

    public static string PathOf(params string[] parts) => Path.Combine([s_root.Value, .. parts]);

    /// <summary>TinyShakespeare split as the issue asks: the first 90 % of characters train, the last 10 % are held out.</summary>
    public static (string Train, string Valid) Shakespeare()
    {
        var text = File.ReadAllText(PathOf("data", "tinyshakespeare.txt"));
        int cut = text.Length * 9 / 10;
        return (text[..cut], text[cut..]);
    }

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared"), Path.Combine(dir.FullName, "..", "shared") })
            {
                if (File.Exists(Path.Combine(candidate, "data", "tinyshakespeare.txt")))
                {
                    return Path.GetFullPath(candidate);
                }
            }
        }
        throw new DirectoryNotFoundException("shared/ test data (data/tinyshakespeare.txt) not found beside the repository");
    }
}
