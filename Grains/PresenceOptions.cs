namespace Messenger.Grains;

/// <summary>Presence and typing timings. Section <c>Presence</c>.</summary>
public sealed class PresenceOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Presence";

    /// <summary>A user must stay connected this long before watchers are told they are online.</summary>
    public TimeSpan OnlineSettle { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>A user must stay disconnected this long before watchers are told they are offline.</summary>
    public TimeSpan OfflineGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Typing stops on its own this long after the last renewal.</summary>
    public TimeSpan TypingTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Shortest interval between two typing signals of one user in one conversation.</summary>
    public TimeSpan TypingMinInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Checks every setting; the message names the one that is wrong.</summary>
    public void Validate()
    {
        if (OnlineSettle < TimeSpan.Zero) throw new InvalidOperationException($"{SectionName}:{nameof(OnlineSettle)} must not be negative.");
        if (OfflineGrace < TimeSpan.Zero) throw new InvalidOperationException($"{SectionName}:{nameof(OfflineGrace)} must not be negative.");
        if (TypingTimeout < TimeSpan.FromMilliseconds(100)) throw new InvalidOperationException($"{SectionName}:{nameof(TypingTimeout)} must be at least 00:00:00.1.");
        if (TypingMinInterval < TimeSpan.Zero || TypingMinInterval >= TypingTimeout) throw new InvalidOperationException($"{SectionName}:{nameof(TypingMinInterval)} must be at least zero and below {nameof(TypingTimeout)}.");
    }
}
