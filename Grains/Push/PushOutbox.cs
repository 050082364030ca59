using System.Text.Json;
using Messenger.Grains.Storage;

namespace Messenger.Grains.Push;

/// <summary>What the outbox needs to know of its user when it decides.</summary>
public interface IPushView
{
    /// <summary>The user's log is received by some device up to here (a live push its gateway took, or a sync).</summary>
    long ReceivedUpTo { get; }

    /// <summary>The user's read mark in a conversation (0 when unknown).</summary>
    long ReadSeq(string conversationId);

    /// <summary>Unread messages in a conversation.</summary>
    long Unread(string conversationId);

    /// <summary>Whether the conversation is muted at <paramref name="nowMs"/>.</summary>
    bool IsMuted(string conversationId, long nowMs);

    /// <summary>The user's push subscriptions by device.</summary>
    IReadOnlyDictionary<string, PushSubscription> Subscriptions { get; }
}

/// <summary>One notification to send: the message it is for, how many it stands for, and where it goes.</summary>
/// <param name="Record">The outbox row of the message it is for (the newest of its conversation's burst).</param>
/// <param name="Count">Messages it stands for (itself and those collapsed into it).</param>
/// <param name="Unread">The conversation's unread count.</param>
/// <param name="Targets">The subscriptions still to send to, by device.</param>
public sealed record PushSend(PushRecord Record, int Count, long Unread, IReadOnlyList<KeyValuePair<string, PushSubscription>> Targets);

/// <summary>
/// One user's push outbox in memory: the rows still pending, the decision when one is due (received
/// in time, read, muted, or sent, a burst collapsing into its newest message), and the outcome of each
/// attempt (done, retried with backoff, given up). Changes come back as rows to save; nothing here does
/// I/O. A plain class owned by the user grain.
/// A row being sent is due again when its send's lease runs out (<see cref="Lease"/>, saved with it): if
/// no outcome came by then (the sender's report was lost, the silo died), it is sent again, with the same id.
/// </summary>
public sealed class PushOutbox(PushOptions options)
{
    // Null while nothing is pending, as for most users most of the time: an idle user's grain holds no empty tables.
    private Rows? _rows;

    /// <summary>The pending rows and what is known of each in memory; every key in the others is a pending row's.</summary>
    private sealed class Rows
    {
        public readonly Dictionary<(string ConversationId, long Seq), PushRecord> Pending = [];
        public readonly HashSet<(string, long)> SentSome = [];
        public readonly HashSet<(string, long)> Sending = []; // handed to the sender, no outcome yet (memory only)
        public readonly Dictionary<(string, long), int> Counts = [];
    }

    /// <summary>Lets go of the tables once nothing is pending (called where a public operation ends).</summary>
    private void DropIfEmpty()
    {
        if (_rows is { Pending.Count: 0 }) _rows = null;
    }

    /// <summary>How many rows are pending.</summary>
    public int Count => _rows?.Pending.Count ?? 0;

    /// <summary>
    /// A stable id per user and message (a repeated attempt carries the same one; no two users share one): 22
    /// base64url characters of a SHA-256 of the three, so it says nothing about them.
    /// </summary>
    public static string NotificationId(string userId, string conversationId, long seq)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{userId}\n{conversationId}\n{seq}"));
        return System.Buffers.Text.Base64Url.EncodeToString(hash.AsSpan(0, 16));
    }

    /// <summary>A new row for a message that reached the user's log (muted: recorded as such, nothing to do).</summary>
    public PushRecord Create(ChatMessage message, long userSeq, bool muted, long nowMs) => new(
        message.ConversationId, message.Seq, userSeq, message.SenderId, message.SentAt.ToUnixTimeMilliseconds(),
        muted ? PushState.Muted : PushState.Pending, nowMs + (long)options.Delay.TotalMilliseconds, 0, null, null, nowMs, nowMs);

    /// <summary>How long a send may go without an outcome before the row is due again.</summary>
    public TimeSpan Lease => options.SendTimeout * 2 + TimeSpan.FromSeconds(5);

    /// <summary>Takes rows that are now durable (new ones, or those read back from the store); rows tracked already stay as they are.</summary>
    public void Track(IEnumerable<PushRecord> records)
    {
        foreach (var r in records)
        {
            if (r.State == PushState.Pending) (_rows ??= new()).Pending.TryAdd((r.ConversationId, r.Seq), r);
        }
    }

    /// <summary>When the next row is due (unix ms), or null when nothing waits.</summary>
    public long? NextDueMs()
    {
        if (_rows is not { } tables) return null;
        long? next = null;
        foreach (var r in tables.Pending.Values)
        {
            if (next is null || r.DueMs < next) next = r.DueMs;
        }
        return next;
    }

    /// <summary>Undecided rows a device has received (up to <paramref name="receivedUpTo"/>) close as delivered (before the grain goes away: the mark lives in memory).</summary>
    public List<PushRecord> SettleReceived(long receivedUpTo, long nowMs)
    {
        var changed = new List<PushRecord>();
        if (_rows is not { } tables) return changed;
        foreach (var r in tables.Pending.Values.ToList())
        {
            if (r.Targets is null && r.UserSeq <= receivedUpTo) changed.Add(Close(r, PushState.Delivered, null, nowMs));
        }
        DropIfEmpty();
        return changed;
    }

    /// <summary>
    /// Decides every conversation with a row due: each undecided row is received, read, muted, or a
    /// candidate; a conversation's candidates (due or not: one burst) make one notification for the
    /// newest, the others collapse into it, as does an older one still waiting for a retry. Rows whose
    /// retry is due are sent again. Returns the rows that changed and what to send.
    /// </summary>
    public (List<PushRecord> Changed, List<PushSend> Sends) Decide(IPushView view, long nowMs)
    {
        var changed = new List<PushRecord>();
        var sends = new List<PushSend>();
        if (_rows is not { } tables) return (changed, sends);
        // One pass over the rows: each conversation's, and which conversations have one due (O(rows), not O(rows × conversations)).
        var byConversation = new Dictionary<string, List<PushRecord>>(StringComparer.Ordinal);
        var due = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in tables.Pending.Values)
        {
            if (!byConversation.TryGetValue(r.ConversationId, out var list)) byConversation[r.ConversationId] = list = [];
            list.Add(r);
            if (r.DueMs <= nowMs) due.Add(r.ConversationId);
        }
        foreach (var conversationId in due)
        {
            var rows = byConversation[conversationId];
            rows.Sort(static (a, b) => a.Seq.CompareTo(b.Seq));
            var candidates = new List<PushRecord>();
            var candidateSeqs = new HashSet<long>();
            PushRecord? retry = null;
            foreach (var r in rows)
            {
                // Undecided rows, and a retry that is due, are settled by what is known now: received, read, muted?
                if (r.Targets is not null && r.DueMs > nowMs) continue; // being sent, or waiting for its retry
                var state = r.UserSeq <= view.ReceivedUpTo ? PushState.Delivered
                    : r.Seq <= view.ReadSeq(conversationId) ? PushState.Read
                    : view.IsMuted(conversationId, nowMs) ? PushState.Muted
                    : PushState.Pending;
                if (state != PushState.Pending) changed.Add(Close(r, state, null, nowMs));
                else if (r.Targets is null)
                {
                    candidates.Add(r);
                    candidateSeqs.Add(r.Seq);
                }
                else retry = r;
            }
            if (candidates.Count > 0)
            {
                var newest = candidates[^1];
                var count = candidates.Count;
                // A newer notification replaces every older one of the conversation, sent or waiting.
                foreach (var r in rows)
                {
                    var key = (r.ConversationId, r.Seq);
                    // A notification on its way is left to arrive (the newer one starts after it); one waiting for a
                    // retry is replaced, and the messages it stood for are counted in the newer one unless it reached a device already.
                    if (r == newest || !tables.Pending.ContainsKey(key) || tables.Sending.Contains(key) || (r.Targets is null && !candidateSeqs.Contains(r.Seq))) continue;
                    if (r.Targets is not null && !tables.SentSome.Contains(key)) count += tables.Counts.GetValueOrDefault(key, 1);
                    changed.Add(Close(r, PushState.Collapsed, $"collapsed into the notification of seq {newest.Seq}", nowMs));
                }
                retry = null;
                var targets = view.Subscriptions.ToList();
                if (targets.Count == 0)
                {
                    changed.Add(Close(newest, PushState.NoSubscription, null, nowMs));
                    continue;
                }
                tables.Counts[(newest.ConversationId, newest.Seq)] = count;
                sends.Add(Send(tables, newest with { Targets = JoinTargets(targets.Select(t => t.Key)) }, count, view, targets, changed, nowMs));
            }
            if (retry is not null && tables.Pending.ContainsKey((retry.ConversationId, retry.Seq)))
            {
                var subscriptions = view.Subscriptions;
                var targets = SplitTargets(retry.Targets).Where(subscriptions.ContainsKey).Select(d => KeyValuePair.Create(d, subscriptions[d])).ToList();
                if (targets.Count == 0)
                {
                    changed.Add(Close(retry, tables.SentSome.Contains((retry.ConversationId, retry.Seq)) ? PushState.Sent : PushState.NoSubscription, null, nowMs));
                    continue;
                }
                sends.Add(Send(tables, retry, tables.Counts.GetValueOrDefault((retry.ConversationId, retry.Seq), 1), view, targets, changed, nowMs));
            }
        }
        DropIfEmpty();
        return (changed, sends);
    }

    /// <summary>The row goes out: it is due again only if its lease runs out before an outcome comes (saved with the change).</summary>
    private PushSend Send(Rows tables, PushRecord r, int count, IPushView view, List<KeyValuePair<string, PushSubscription>> targets, List<PushRecord> changed, long nowMs)
    {
        var leased = r with { DueMs = nowMs + (long)Lease.TotalMilliseconds, UpdatedMs = nowMs };
        tables.Pending[(r.ConversationId, r.Seq)] = leased;
        tables.Sending.Add((r.ConversationId, r.Seq));
        changed.Add(leased);
        return new PushSend(leased, count, view.Unread(r.ConversationId), targets);
    }

    /// <summary>
    /// Applies the answers to one notification's attempts: a device that took it, or whose subscription is
    /// gone or refused it for good, is done; one to retry waits (backoff, or the service's Retry-After). Returns
    /// the row as it now is (null when it is no longer pending here).
    /// </summary>
    public PushRecord? Complete(string conversationId, long seq, IReadOnlyList<PushAttempt> attempts, long nowMs)
    {
        var key = (conversationId, seq);
        if (_rows is not { } tables) return null;
        tables.Sending.Remove(key);
        if (!tables.Pending.TryGetValue(key, out var r)) return null;
        var targets = SplitTargets(r.Targets).ToList();
        TimeSpan? wait = null;
        string? detail = null;
        string? failure = null;
        foreach (var a in attempts)
        {
            switch (a.Outcome)
            {
                case PushOutcome.Sent:
                    targets.Remove(a.DeviceId);
                    tables.SentSome.Add(key);
                    break;
                case PushOutcome.Retry:
                    detail = a.Detail;
                    var after = a.RetryAfter ?? TimeSpan.Zero;
                    wait = wait is null || after > wait ? after : wait;
                    break;
                default:
                    targets.Remove(a.DeviceId);
                    failure = a.Detail;
                    break;
            }
        }
        var attemptsSoFar = r.Attempts + 1;
        if (targets.Count == 0)
        {
            var sent = tables.SentSome.Contains(key);
            return Closed(Close(r with { Attempts = attemptsSoFar }, sent ? PushState.Sent : PushState.Failed, sent ? null : failure, nowMs));
        }
        if (attemptsSoFar >= options.MaxAttempts)
        {
            return Closed(Close(r with { Attempts = attemptsSoFar }, PushState.Failed, $"gave up after {attemptsSoFar} attempts: {detail ?? failure}", nowMs));
        }
        var delay = Backoff(attemptsSoFar);
        if (wait > delay) delay = wait.Value < options.MaxRetryDelay ? wait.Value : options.MaxRetryDelay;
        var next = r with
        {
            Attempts = attemptsSoFar, Targets = JoinTargets(targets), Detail = detail ?? failure,
            DueMs = nowMs + (long)delay.TotalMilliseconds, UpdatedMs = nowMs,
        };
        tables.Pending[key] = next;
        return next;
    }

    private PushRecord Closed(PushRecord closed)
    {
        DropIfEmpty();
        return closed;
    }

    /// <summary>The wait before retry <paramref name="attempt"/>: doubling from the first, capped.</summary>
    public TimeSpan Backoff(int attempt)
    {
        var ms = options.RetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        return ms >= options.MaxRetryDelay.TotalMilliseconds ? options.MaxRetryDelay : TimeSpan.FromMilliseconds(ms);
    }

    /// <summary>Everything pending (the account is going away).</summary>
    public void Clear() => _rows = null;

    private PushRecord Close(PushRecord r, PushState state, string? detail, long nowMs)
    {
        var key = (r.ConversationId, r.Seq);
        if (_rows is { } tables)
        {
            tables.Pending.Remove(key);
            tables.Sending.Remove(key);
            tables.SentSome.Remove(key);
            tables.Counts.Remove(key);
        }
        return r with { State = state, Detail = detail ?? r.Detail, UpdatedMs = nowMs };
    }

    private static string JoinTargets(IEnumerable<string> deviceIds) => JsonSerializer.Serialize(deviceIds.ToArray(), PushJson.Default.StringArray);

    private static string[] SplitTargets(string? targets) =>
        targets is null ? [] : JsonSerializer.Deserialize(targets, PushJson.Default.StringArray) ?? [];
}
