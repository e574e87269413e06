namespace EdgeAgent.Inference.Tests;

/// <summary>Finds the read-only <c>shared/</c> folder (test data beside the repository, see shared/README.md) by
/// walking up from the test binaries: for each ancestor, <c>ancestor/shared</c> and <c>ancestor/../shared</c>.</summary>
internal static class TestData
{
    private static readonly Lazy<string> Root = new(Find);

    public static string SharedDir => Root.Value;

    /// <summary>A path inside the shared folder.</summary>
    public static string Path(params string[] parts) => System.IO.Path.Combine([SharedDir, .. parts]);

    private static string Find()
    {
        var tried = new List<string>();
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { System.IO.Path.Combine(dir.FullName, "shared"), System.IO.Path.Combine(dir.FullName, "..", "shared") })
            {
                if (Directory.Exists(System.IO.Path.Combine(candidate, "models")))
                {
                    return System.IO.Path.GetFullPath(candidate);
                }
                tried.Add(candidate);
            }
        }
        throw new DirectoryNotFoundException("shared/ test data (with models/) not found; looked at: " + string.Join(", ", tried.Take(6)) + ", …");
    }
}
