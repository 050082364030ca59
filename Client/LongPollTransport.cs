using System.Net.Http;

namespace Messenger.Client;

/// <summary>How a <see cref="MessengerClient"/> reaches the server in real time.</summary>
public enum ClientTransport
{
    /// <summary>A WebSocket; long-poll when the WebSocket handshake is refused by something on the way (the default).</summary>
    Auto,

    /// <summary>A WebSocket only.</summary>
    WebSocket,

    /// <summary>Long-poll (<c>GET /v1/poll</c>) for updates and events, REST for every request.</summary>
    LongPoll,
}

/// <summary>
/// The requests of a <see cref="MessengerClient"/> that long-polls, over REST: each frame the client
/// would write on a socket becomes the equivalent REST call, and its answer the frame the socket would
/// have brought, so the client's logic is the same on both transports. A request that cannot reach a
/// server goes to the next one, until the request's deadline.
/// </summary>
internal sealed class LongPollTransport : IDisposable
{
    private readonly MessengerHttpClient[] _servers;
    private int _current;

    public LongPollTransport(IReadOnlyList<Uri> servers, string token)
    {
        // Longer than any server's hold (at most 5 minutes), so a held poll is never cut here.
        _servers = [.. servers.Select(s => new MessengerHttpClient(s, token, TimeSpan.FromMinutes(6)))];
    }

    /// <summary>The server polled and asked now.</summary>
    public MessengerHttpClient Current => _servers[Volatile.Read(ref _current) % _servers.Length];

    /// <summary>Moves on to the next server (after a failure).</summary>
    public void NextServer() => Interlocked.Increment(ref _current);

    public async Task<InFrame> RequestAsync(OutFrame f, TimeSpan timeout, TimeSpan retryDelay, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                cts.CancelAfter(deadline - DateTime.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero);
                return await OnceAsync(Current, f, cts.Token);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                if (DateTime.UtcNow + retryDelay >= deadline) throw new TimeoutException($"no server answered the {f.Type} request within {timeout}", ex);
                NextServer();
                await Task.Delay(retryDelay, ct);
            }
        }
    }

    private static async Task<InFrame> OnceAsync(MessengerHttpClient http, OutFrame f, CancellationToken ct)
    {
        switch (f.Type)
        {
            case "send":
                var ack = await http.SendAsync(f.ConversationId!, f.ClientMsgId!, f.Text!, ct);
                return new InFrame
                {
                    Type = "ack", ConversationId = ack.ConversationId, Seq = ack.Seq, UserSeq = ack.UserSeq, ClientMsgId = ack.ClientMsgId,
                    SentAt = ack.SentAt, Duplicate = ack.Duplicate, OfflineRecipients = [.. ack.OfflineRecipients ?? []],
                };
            case "sync":
                var page = await http.SyncAsync(f.After ?? 0, f.Limit, ct);
                return new InFrame { Type = "sync_result", Updates = [.. page.Updates], HasMore = page.HasMore, UserSeq = page.UserSeq };
            case "history":
                var history = await http.GetHistoryAsync(f.ConversationId!, f.Before, f.After, f.Limit, ct);
                return new InFrame { Type = "history_result", ConversationId = history.ConversationId, Messages = [.. history.Messages], HasMore = history.HasMore, LastSeq = history.LastSeq };
            case "read":
                var mark = await http.MarkReadAsync(f.ConversationId!, f.Seq ?? 0, ct);
                return new InFrame { Type = "read_result", ConversationId = mark.ConversationId, ReadSeq = mark.ReadSeq };
            case "presence_query":
                var statuses = await http.GetPresenceAsync(f.UserIds ?? [], ct);
                return new InFrame { Type = "presence_result", Users = [.. statuses] };
            case "presence_subscribe":
                return new InFrame { Type = "presence_result", Users = [.. await http.SubscribePresenceAsync(f.UserIds ?? [], ct)] };
            case "typing":
                await http.SendTypingAsync(f.ConversationId!, ct);
                return new InFrame { Type = "typing_result" };
            case "group_create":
                return GroupResult(await http.CreateGroupAsync(f.Title!, f.UserIds ?? [], ct));
            case "group_add":
                return GroupResult(await http.AddMembersAsync(f.ConversationId!, f.UserIds ?? [], ct));
            case "group_remove":
                return GroupResult(await http.RemoveMemberAsync(f.ConversationId!, f.UserId!, ct));
            case "group_leave":
                return GroupResult(await http.LeaveGroupAsync(f.ConversationId!, ct));
            case "group_rename":
                return GroupResult(await http.RenameGroupAsync(f.ConversationId!, f.Title!, ct));
            case "group_role":
                return GroupResult(await http.SetRoleAsync(f.ConversationId!, f.UserId!, f.Role!, ct));
            case "ping":
                await http.GetMeAsync(ct);
                return new InFrame { Type = "pong" };
            default:
                throw new InvalidOperationException($"'{f.Type}' has no REST equivalent");
        }
    }

    private static InFrame GroupResult(GroupChange change) =>
        new() { Type = "group_result", Conversation = change.Conversation, Events = [.. change.Events] };

    public void Dispose()
    {
        foreach (var server in _servers) server.Dispose();
    }
}
