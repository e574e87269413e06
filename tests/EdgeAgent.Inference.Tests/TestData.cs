namespace EdgeAgent.Inference.Tests;

/// <summary>Locates the read-only test data folder <c>shared/</c> that sits beside the repository.</summary>
internal static class TestData
{
    private static readonly Lazy<string> Root = new(Find);

    public static string SharedDir => Root.Value;

    public static string Path(params string[] parts) => System.IO.Path.Combine([SharedDir, .. parts]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { System.IO.Path.Combine(dir.FullName, "shared"), System.IO.Path.Combine(dir.FullName, "..", "shared") })
            {
                if (Directory.Exists(System.IO.Path.Combine(candidate, "models")))
                {
                    return System.IO.Path.GetFullPath(candidate);
                }
            }
        }
        throw new DirectoryNotFoundException("test data folder 'shared/' (with models/) not found beside the repository");
    }
}
