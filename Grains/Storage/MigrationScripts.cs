using System.Globalization;
using System.Reflection;

namespace Messenger.Grains.Storage;

/// <summary>
/// A backend's versioned schema scripts, embedded as <c>Migrations/NNNN_name.sql</c> beside the backend's
/// code, and the rules every backend applies them by: in version order, each once, and never against
/// a database whose schema is newer than this build knows.
/// </summary>
internal sealed class MigrationScripts
{
    private MigrationScripts(IReadOnlyList<(int Version, string Sql)> scripts) => Scripts = scripts;

    /// <summary>The scripts in version order.</summary>
    public IReadOnlyList<(int Version, string Sql)> Scripts { get; }

    /// <summary>The newest version this build has a script for.</summary>
    public int Latest => Scripts.Count == 0 ? 0 : Scripts[^1].Version;

    /// <summary>The scripts embedded under the <c>Migrations</c> folder of <paramref name="anchor"/>'s namespace.</summary>
    public static MigrationScripts For(Type anchor) => For(anchor.Assembly, anchor.Namespace!);

    /// <summary>The scripts embedded under the <c>Migrations</c> folder of <paramref name="folderNamespace"/>.</summary>
    public static MigrationScripts For(Assembly assembly, string folderNamespace)
    {
        var prefix = folderNamespace + ".Migrations.";
        var scripts = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n => (Version: int.Parse(n.AsSpan(prefix.Length, 4), provider: CultureInfo.InvariantCulture), Sql: Read(assembly, n)))
            .OrderBy(s => s.Version)
            .ToList();
        return new MigrationScripts(scripts);
    }

    /// <summary>
    /// The scripts still to apply to a database at <paramref name="current"/>; throws when the database
    /// is newer than this build (an older binary must not write to a schema it does not know).
    /// </summary>
    public IEnumerable<(int Version, string Sql)> After(long current, string database)
    {
        if (current > Latest)
        {
            throw new InvalidOperationException(
                $"The schema of {database} is at version {current}, newer than this build knows ({Latest}): run a build at least as new as the one that migrated it.");
        }
        return Scripts.Where(s => s.Version > current);
    }

    private static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
