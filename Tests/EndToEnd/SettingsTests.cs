using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>The real gateway process and its settings.</summary>
public sealed class SettingsTests
{
    [Fact]
    public async Task Gateway_WithAWrongMemorySetting_StopsAtStartup_NamingIt()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ServerProcess.StartAsync(null, "--Memory:CheckInterval=00:00:00.010"));
        Assert.Contains("Memory:CheckInterval must be at least", error.Message, StringComparison.Ordinal);
    }
}
