namespace Messenger.Grains;

/// <summary>What a user grain returns for a batch of one conversation's messages.</summary>
/// <param name="UserSeqs">The <c>userSeq</c> each message got, aligned with the batch; 0 for a
/// message the user's log already held (a re-driven fan-out).</param>
/// <param name="Live">Whether the user had a live device when the batch was appended.</param>
[GenerateSerializer, Immutable]
public sealed record DeliveryReceipt(
    [property: Id(0)] long[] UserSeqs,
    [property: Id(1)] bool Live);

/// <summary>
/// Updates for several users of one gateway, pushed in one call. Each message appears once in
/// <see cref="Messages"/> however many of the users receive it; an update points at it by index.
/// Updates of one user are in <c>userSeq</c> order.
/// </summary>
/// <param name="Messages">The distinct messages the updates point at.</param>
/// <param name="Updates">The updates, each addressed to one user.</param>
/// <param name="AskReceived">Whether the silo wants to know which users no WebSocket took them for (some of
/// them have push subscriptions); otherwise the gateway need not look.</param>
[GenerateSerializer, Immutable]
public sealed record UpdateBatch(
    [property: Id(0)] IReadOnlyList<ChatMessage> Messages,
    [property: Id(1)] IReadOnlyList<PushedUpdate> Updates,
    [property: Id(2)] bool AskReceived = false)
{
    /// <summary>The batch as <c>(user, update)</c> pairs with the messages filled in, in batch order.</summary>
    public List<(string UserId, UserUpdate Update)> Expand()
    {
        var list = new List<(string, UserUpdate)>(Updates.Count);
        foreach (var u in Updates)
        {
            var message = u.MessageIndex >= 0 ? Messages[u.MessageIndex] : null;
            list.Add((u.UserId, new UserUpdate(u.UserSeq, u.Kind, u.ConversationId, u.Seq, message, u.Receipts)));
        }
        return list;
    }
}

/// <summary>One user's update inside an <see cref="UpdateBatch"/>.</summary>
/// <param name="UserId">Whose update log it belongs to.</param>
/// <param name="UserSeq">Its position in that log.</param>
/// <param name="Kind">What changed.</param>
/// <param name="ConversationId">The conversation.</param>
/// <param name="Seq">The message seq or the new read mark.</param>
/// <param name="MessageIndex">Index into <see cref="UpdateBatch.Messages"/>, or -1 when the update carries no message.</param>
/// <param name="Receipts">The counts of a <see cref="UpdateKind.Receipts"/> update, otherwise null.</param>
[GenerateSerializer, Immutable]
public readonly record struct PushedUpdate(
    [property: Id(0)] string UserId,
    [property: Id(1)] long UserSeq,
    [property: Id(2)] UpdateKind Kind,
    [property: Id(3)] string ConversationId,
    [property: Id(4)] long Seq,
    [property: Id(5)] int MessageIndex,
    [property: Id(6)] IReadOnlyList<MessageReceipt>? Receipts = null);
