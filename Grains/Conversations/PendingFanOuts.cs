using Messenger.Grains.Storage;
using Microsoft.Extensions.Logging;

namespace Messenger.Grains.Conversations;

/// <summary>
/// Finds every conversation whose fan-out mark is behind its log (a crash came between a commit and its
/// fan-out) and hands each to <c>resume</c>, which wakes its grain: page by page through the store, so
/// that none is left out however many there are, a few at a time.
/// </summary>
public static class PendingFanOuts
{
    /// <summary>Conversations read from the store per page.</summary>
    public const int PageSize = 1_000;

    /// <summary>Conversations woken at once.</summary>
    public const int Concurrency = 16;

    /// <summary>Resumes every pending conversation; returns how many there were. One that fails is logged and the rest go on.</summary>
    public static async Task<int> ResumeAllAsync(IConversationStore store, Func<string, Task> resume, ILogger logger,
        int pageSize = PageSize, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var total = 0;
        string? after = null;
        var options = new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = cancellationToken };
        while (true)
        {
            var page = await store.ListConversationsPendingFanOutAsync(after, pageSize);
            await Parallel.ForEachAsync(page, options, async (conversationId, _) =>
            {
                try
                {
                    await resume(conversationId);
                }
                catch (Exception ex)
                {
                    // Its grain resumes the fan-out whenever it is next woken (a send, a read of its history).
                    logger.LogError(ex, "Resuming the fan-out of {ConversationId} failed", conversationId);
                }
            });
            total += page.Count;
            if (page.Count < pageSize) return total;
            after = page[^1];
        }
    }
}
