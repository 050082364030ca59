namespace Messenger.Grains;

/// <summary>Limits and timings of the grains. Section <c>Messenger</c>.</summary>
public sealed class MessengerOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Messenger";

    /// <summary>Longest message text, in UTF-16 code units.</summary>
    public int MaxTextLength { get; set; } = 4000;

    /// <summary>Longest <c>clientMsgId</c>.</summary>
    public int MaxClientMsgIdLength { get; set; } = 64;

    /// <summary>Most recent messages each conversation keeps in memory (first history page comes from here).</summary>
    public int RecentMessages { get; set; } = 256;

    /// <summary>Largest history page and sync page.</summary>
    public int MaxPageSize { get; set; } = 500;

    /// <summary>Most members a group may have.</summary>
    public int MaxGroupMembers { get; set; } = 1024;

    /// <summary>Longest group title, in UTF-16 code units.</summary>
    public int MaxTitleLength { get; set; } = 128;

    /// <summary>
    /// A conversation sends its members' receipts (how many received and read each of their messages) at most
    /// this often; changes meanwhile go together in the next.
    /// </summary>
    public TimeSpan ReceiptInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a silo keeps a gateway's device sessions and presence watches after it last heard from the gateway
    /// (a heartbeat answered, or a call with a session or watch); the silo sends it a heartbeat every third of this.
    /// Also how long a gateway's registration for a user's device grants lasts (the gateway renews it every
    /// <c>Gateway:LeaseRenewInterval</c>, which must be well under this).
    /// </summary>
    public TimeSpan DeviceLease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// While a conversation or user is busy, its progress marks (the fan-out mark, the checkpoint of the
    /// conversation list) are saved at most this often; after a crash at most about this much of the
    /// logs is replayed. Quiet ones are saved at once.
    /// </summary>
    public TimeSpan MarkSaveInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Checks every setting; the message names the one that is wrong.</summary>
    public void Validate()
    {
        if (MaxTextLength is < 1 or > 65536) throw new InvalidOperationException($"{SectionName}:{nameof(MaxTextLength)} must be 1..65536, is {MaxTextLength}.");
        if (MaxClientMsgIdLength is < 8 or > 256) throw new InvalidOperationException($"{SectionName}:{nameof(MaxClientMsgIdLength)} must be 8..256, is {MaxClientMsgIdLength}.");
        if (RecentMessages is < 0 or > 100_000) throw new InvalidOperationException($"{SectionName}:{nameof(RecentMessages)} must be 0..100000, is {RecentMessages}.");
        // Not below 500: that is the default sync page size clients get when they name none.
        if (MaxPageSize is < 500 or > 10_000) throw new InvalidOperationException($"{SectionName}:{nameof(MaxPageSize)} must be 500..10000, is {MaxPageSize}.");
        if (MaxGroupMembers is < 2 or > 100_000) throw new InvalidOperationException($"{SectionName}:{nameof(MaxGroupMembers)} must be 2..100000, is {MaxGroupMembers}.");
        if (MaxTitleLength is < 1 or > 1024) throw new InvalidOperationException($"{SectionName}:{nameof(MaxTitleLength)} must be 1..1024, is {MaxTitleLength}.");
        if (MarkSaveInterval < TimeSpan.Zero || MarkSaveInterval > TimeSpan.FromMinutes(10)) throw new InvalidOperationException($"{SectionName}:{nameof(MarkSaveInterval)} must be 00:00:00 to 00:10:00, is {MarkSaveInterval}.");
        if (ReceiptInterval < TimeSpan.Zero || ReceiptInterval > TimeSpan.FromMinutes(1)) throw new InvalidOperationException($"{SectionName}:{nameof(ReceiptInterval)} must be 00:00:00 to 00:01:00, is {ReceiptInterval}.");
        if (DeviceLease < TimeSpan.FromSeconds(1)) throw new InvalidOperationException($"{SectionName}:{nameof(DeviceLease)} must be at least 00:00:01, is {DeviceLease}.");
    }
}
