using Microsoft.AspNetCore.Http;

namespace Messenger.Tests.Support.Push;

/// <summary>Why a receiver refused each request it refused, in order, for tests to assert there were none.</summary>
internal sealed class RefusalLog(string receiver)
{
    private readonly Lock _gate = new();
    private readonly List<string> _reasons = [];

    public IReadOnlyList<string> Snapshot()
    {
        lock (_gate) return [.. _reasons];
    }

    public void Record(HttpRequest request, string reason)
    {
        lock (_gate) _reasons.Add($"{request.Method} {request.Path}: {reason}");
    }

    /// <summary>A sentence for timeout messages: a wait that times out is often explained by a refusal.</summary>
    public string Describe()
    {
        var reasons = Snapshot();
        return reasons.Count == 0 ? $"The {receiver} refused nothing." : $"The {receiver} refused: {string.Join(" | ", reasons)}";
    }
}
