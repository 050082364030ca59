namespace Messenger.Tests.Units;

/// <summary>
/// Runs a test body the way a grain activation runs its code: on a scheduler that executes one
/// continuation at a time, so helpers written for grains (not thread-safe by design) are tested
/// under the same rule they run under.
/// </summary>
public static class OneTurnAtATime
{
    public static Task Run(Func<Task> body)
    {
        var scheduler = new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler;
        return Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.None, scheduler).Unwrap();
    }
}
