using System.Text.Json;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>With <c>Logging:Console:FormatterName=json</c> every log line is one JSON object a log collector can parse.</summary>
public sealed class StructuredLogTests
{
    [Fact]
    public async Task JsonFormatter_WritesOneJsonObjectPerLine_WithLevelCategoryAndMessage()
    {
        await using var server = await ServerProcess.StartAsync(null, "--Logging:Console:FormatterName=json");
        var lines = server.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.NotEmpty(lines);
        foreach (var line in lines)
        {
            using var entry = JsonDocument.Parse(line);
            Assert.False(string.IsNullOrEmpty(entry.RootElement.GetProperty("LogLevel").GetString()), line);
            Assert.False(string.IsNullOrEmpty(entry.RootElement.GetProperty("Category").GetString()), line);
            Assert.True(entry.RootElement.TryGetProperty("Message", out _), line);
        }
        Assert.Contains(lines, l => l.Contains("Now listening on", StringComparison.Ordinal));
    }
}
