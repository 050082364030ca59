using System.Globalization;
using System.Security.Cryptography;
using Messenger.Client;

namespace Messenger.Bench.Hosting;

/// <summary>A user the bench can connect as: one device token per user.</summary>
public sealed record BenchAccount(int Index, string UserId, string Username, string Token);

/// <summary>
/// Users for the workloads. Registering costs a slow password hash per account (PBKDF2, tens of ms
/// on these cores), and logging in another, so accounts are registered once, in parallel with bounded
/// concurrency, into a template data directory that every workload copies into its own fresh data
/// directory. Templates are kept under the scratch directory and reused across runs while the schema
/// (the migration files) and the tokens (7 days by default) stay valid; <c>--no-cache</c> skips that.
/// </summary>
public sealed class AccountSeed
{
    private const int Concurrency = 8;
    private static readonly TimeSpan MaxAge = TimeSpan.FromDays(6);

    private AccountSeed(string? dataTemplate, IReadOnlyList<BenchAccount> accounts)
    {
        DataTemplate = dataTemplate;
        Accounts = accounts;
    }

    /// <summary>The template data directory, or null when the bench targets a running server.</summary>
    public string? DataTemplate { get; }

    public IReadOnlyList<BenchAccount> Accounts { get; }

    /// <summary>A fresh data directory holding the seeded accounts (and the key their tokens were signed with).</summary>
    public string NewDataDirectory(string path)
    {
        if (DataTemplate is null) throw new InvalidOperationException("no template: the bench targets a running server");
        Directory.CreateDirectory(path);
        foreach (var file in Directory.GetFiles(DataTemplate))
        {
            if (file.EndsWith("-shm", StringComparison.Ordinal)) continue;
            File.Copy(file, Path.Combine(path, Path.GetFileName(file)));
        }
        return path;
    }

    /// <summary>At least <paramref name="count"/> accounts in a template, reused from an earlier run when possible.</summary>
    public static async Task<AccountSeed> ForLocalServerAsync(int count, bool reuse, TextWriter log)
    {
        var fingerprint = SchemaFingerprint();
        if (reuse && FindReusable(fingerprint, count) is { } found)
        {
            log.WriteLine($"  accounts: reusing {found.Accounts.Count} seeded users from {Path.GetDirectoryName(found.DataTemplate)}");
            return found;
        }
        var root = reuse ? Path.Combine(BenchPaths.Scratch, $"seed-{fingerprint}-{count}") : Path.Combine(BenchPaths.RunDirectory, "seed");
        var building = root + ".building-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var data = Path.Combine(building, "data");
        Directory.CreateDirectory(data);
        log.WriteLine($"  accounts: registering {count} users (one PBKDF2 hash per register and per login; concurrency {Concurrency})...");
        var started = DateTime.UtcNow;
        IReadOnlyList<BenchAccount> accounts;
        await using (var server = await ServerProcess.StartGatewayAsync(data, Path.Combine(building, "seed-server.log")))
        {
            accounts = await RegisterAsync(server.BaseAddress, count, log);
            await server.StopAsync();
        }
        await File.WriteAllLinesAsync(Path.Combine(building, "accounts.tsv"),
            accounts.Select(a => $"{a.Index}\t{a.UserId}\t{a.Username}\t{a.Token}"));
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        Directory.Move(building, root);
        log.WriteLine($"  accounts: {count} users ready in {(DateTime.UtcNow - started).TotalSeconds:F0} s ({root})");
        return new AccountSeed(Path.Combine(root, "data"), accounts);
    }

    /// <summary>Accounts on a server the bench did not start (<c>--url</c>): registered there, never reused.</summary>
    public static async Task<AccountSeed> ForRemoteServerAsync(Uri server, int count, TextWriter log)
    {
        log.WriteLine($"  accounts: registering {count} users on {server}...");
        return new AccountSeed(null, await RegisterAsync(server, count, log));
    }

    private static async Task<IReadOnlyList<BenchAccount>> RegisterAsync(Uri server, int count, TextWriter log)
    {
        var tag = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var password = $"bench-password-{tag}";
        var accounts = new BenchAccount[count];
        var done = 0;
        using var http = new MessengerHttpClient(server);
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, ct) =>
        {
            var username = $"b{tag}u{i}";
            var user = await http.RegisterAsync(username, password, ct);
            var session = await http.LoginAsync(username, password, "bench", ct);
            accounts[i] = new BenchAccount(i, user.UserId, user.Username, session.Token);
            var n = Interlocked.Increment(ref done);
            if (count >= 1000 && n % (count / 10) == 0) log.WriteLine($"    {n}/{count}");
        });
        return accounts;
    }

    private static AccountSeed? FindReusable(string fingerprint, int count)
    {
        if (!Directory.Exists(BenchPaths.Scratch)) return null;
        var candidates = new List<(int Count, string Root)>();
        foreach (var dir in Directory.GetDirectories(BenchPaths.Scratch, $"seed-{fingerprint}-*"))
        {
            var suffix = Path.GetFileName(dir)[$"seed-{fingerprint}-".Length..];
            if (int.TryParse(suffix, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= count) candidates.Add((n, dir));
        }
        foreach (var (_, root) in candidates.OrderBy(c => c.Count))
        {
            var list = Path.Combine(root, "accounts.tsv");
            if (!File.Exists(list) || DateTime.UtcNow - File.GetLastWriteTimeUtc(list) > MaxAge) continue;
            var accounts = new List<BenchAccount>();
            foreach (var line in File.ReadLines(list))
            {
                var f = line.Split('\t');
                accounts.Add(new BenchAccount(int.Parse(f[0], CultureInfo.InvariantCulture), f[1], f[2], f[3]));
            }
            if (accounts.Count >= count) return new AccountSeed(Path.Combine(root, "data"), accounts);
        }
        return null;
    }

    /// <summary>Templates are only valid for the schema they were made with.</summary>
    private static string SchemaFingerprint()
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (Directory.Exists(BenchPaths.MigrationsDirectory))
        {
            foreach (var file in Directory.GetFiles(BenchPaths.MigrationsDirectory).Order(StringComparer.Ordinal))
            {
                sha.AppendData(File.ReadAllBytes(file));
            }
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..12];
    }
}
