namespace EdgeAgent.Inference.Tests;

/// <summary>Finds the read-only <c>shared/</c> folder (test data beside the repository, see shared/README.md) by
/// walking up from the test binaries: for each ancestor, <c>ancestor/../shared</c> and <c>ancestor/shared</c>.</summary>
internal static class SharedData
{
    private static readonly Lazy<string> s_root = new(Find);

    /// <summary>The shared folder; throws with the places looked at when it cannot be found.</summary>
    public static string Root => s_root.Value;

    /// <summary>A path inside the shared folder.</summary>
    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string Find()
    {
        var tried = new List<string>();
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "..", "shared"), Path.Combine(dir.FullName, "shared") })
            {
                if (Directory.Exists(Path.Combine(candidate, "tokenizers")))
                {
                    return Path.GetFullPath(candidate);
                }
                tried.Add(candidate);
            }
        }
        throw new DirectoryNotFoundException("shared/ test data not found; looked at: " + string.Join(", ", tried.Take(6)) + ", …");
    }
}
