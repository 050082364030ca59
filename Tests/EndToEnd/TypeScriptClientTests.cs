using Messenger.Testing;
using Xunit.Abstractions;

namespace Messenger.Tests.EndToEnd;

/// <summary>
/// The TypeScript client's own suite (Client.TypeScript/test, Node's test runner) against the real gateway
/// process this build produced: its wire types regenerated from docs/ and compared with the committed
/// ones, compiled, then run (REST, WebSocket, long-poll fallback, catch-up, outbox, presence, typing).
/// </summary>
public sealed class TypeScriptClientTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TypeScriptClientSuite_PassesAgainstTheRealGateway()
    {
        var folder = Path.Combine(Repository.Root, "Client.TypeScript");
        Assert.True(Directory.Exists(Path.Combine(folder, "node_modules")),
            "Client.TypeScript/node_modules is missing: run scripts/install-test-deps.sh (it runs npm ci there).");
        var gateway = Path.Combine(Repository.Root, "Gateway", "bin", Repository.Configuration, "net10.0", "Messenger.Gateway.dll");
        var (code, stdout, stderr) = await Repository.RunAsync("npm", ["test", "--silent"], folder,
            new Dictionary<string, string> { ["MESSENGER_GATEWAY"] = gateway, ["NODE_NO_WARNINGS"] = "1" }, TimeSpan.FromMinutes(10));
        output.WriteLine(stdout);
        output.WriteLine(stderr);
        Assert.True(code == 0, $"npm test in Client.TypeScript failed (exit code {code}):\n{Failures(stdout)}\n{stderr}");
    }

    // The TAP lines of what failed, with the detail that follows each, so the failure message says what broke.
    private static string Failures(string tap) =>
        string.Join('\n', tap.Split('\n').SkipWhile(l => !l.Contains("not ok", StringComparison.Ordinal)).Take(80));
}
