using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Serialization.Metadata;

namespace Messenger.Client;

/// <summary>The REST half of the API: accounts, sessions, conversations, history, sync.</summary>
public sealed class MessengerHttpClient : IDisposable
{
    private readonly HttpClient _http;

    /// <summary>
    /// A client for the server at <paramref name="baseAddress"/>, optionally authenticated; each request
    /// may take up to <paramref name="timeout"/> (default 30 s, enough for a long-poll's default hold).
    /// </summary>
    public MessengerHttpClient(Uri baseAddress, string? token = null, TimeSpan? timeout = null)
    {
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        if (token is not null) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>The server's base address.</summary>
    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>Registers an account.</summary>
    public Task<User> RegisterAsync(string username, string password, CancellationToken ct = default) =>
        PostAsync("v1/accounts", new Credentials(username, password), ClientJson.Default.Credentials, ClientJson.Default.User, ct);

    /// <summary>Logs in one device and returns its token. Keep <paramref name="deviceId"/> for the device's next logins.</summary>
    public Task<Session> LoginAsync(string username, string password, string? deviceId = null, CancellationToken ct = default) =>
        LoginAsync(username, password, deviceId, null, ct);

    /// <summary>
    /// Logs in one device and returns its token. Keep <paramref name="deviceId"/> for the device's next
    /// logins; <paramref name="deviceName"/> (1 to 64 characters, or null to keep the name it has) is what
    /// the devices list shows.
    /// </summary>
    public Task<Session> LoginAsync(string username, string password, string? deviceId, string? deviceName, CancellationToken ct = default) =>
        PostAsync("v1/sessions", new Credentials(username, password, deviceId, deviceName), ClientJson.Default.Credentials, ClientJson.Default.Session, ct);

    /// <summary>The user's logged-in devices, most recently active first; this one has <see cref="Device.Current"/> set.</summary>
    public async Task<IReadOnlyList<Device>> ListDevicesAsync(CancellationToken ct = default) =>
        (await GetAsync("v1/devices", ClientJson.Default.DeviceList, ct)).Devices;

    /// <summary>
    /// Logs a device of this user out: its tokens stop working at once and its sockets and polls are closed
    /// (<c>device_not_found</c> if it is not logged in). It may log in again.
    /// </summary>
    public Task LogOutDeviceAsync(string deviceId, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Delete, $"v1/devices/{Uri.EscapeDataString(deviceId)}", null, ct);

    /// <summary>Logs this device out: its token (this client's) stops working.</summary>
    public Task LogOutAsync(CancellationToken ct = default) => SendAsync(HttpMethod.Delete, "v1/sessions/current", null, ct);

    /// <summary>
    /// Deletes the account, confirmed by its password (<c>wrong_password</c> otherwise, and nothing changes).
    /// Every token of the user stops working; see docs/PROTOCOL.md for what happens to the messages.
    /// </summary>
    public Task DeleteAccountAsync(string password, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Delete, "v1/me", JsonContent.Create(new PasswordBody(password), ClientJson.Default.PasswordBody), ct);

    /// <summary>The authenticated user.</summary>
    public Task<User> GetMeAsync(CancellationToken ct = default) => GetAsync("v1/me", ClientJson.Default.User, ct);

    /// <summary>Finds a user by username.</summary>
    public Task<User> FindUserAsync(string username, CancellationToken ct = default) =>
        GetAsync($"v1/users/by-username/{Uri.EscapeDataString(username)}", ClientJson.Default.User, ct);

    /// <summary>A user by id; <c>user_not_found</c> (404) for a deleted account (show its messages as from a deleted user).</summary>
    public Task<User> GetUserAsync(string userId, CancellationToken ct = default) =>
        GetAsync($"v1/users/{Uri.EscapeDataString(userId)}", ClientJson.Default.User, ct);

    /// <summary>Opens (idempotently) the direct conversation with another user.</summary>
    public Task<Conversation> OpenDirectAsync(string userId, CancellationToken ct = default) =>
        PostAsync("v1/conversations/direct", new UserRef(userId), ClientJson.Default.UserRef, ClientJson.Default.Conversation, ct);

    /// <summary>
    /// Creates a group with the caller as its owner and <paramref name="userIds"/> as its other members; its
    /// <c>created</c> event is the group's first entry. Refused with <c>user_not_found</c>, <c>group_full</c>,
    /// <c>invalid_request</c> (a title empty or too long, a user named twice).
    /// </summary>
    public Task<GroupChange> CreateGroupAsync(string title, IReadOnlyList<string> userIds, CancellationToken ct = default) =>
        PostAsync("v1/conversations/groups", new CreateGroupBody(title, userIds), ClientJson.Default.CreateGroupBody, ClientJson.Default.GroupChange, ct);

    /// <summary>Adds members to a group (admins and owners): <c>not_admin</c>, <c>already_member</c>, <c>user_not_found</c>, <c>group_full</c>.</summary>
    public Task<GroupChange> AddMembersAsync(string conversationId, IReadOnlyList<string> userIds, CancellationToken ct = default) =>
        PostAsync($"v1/conversations/{Uri.EscapeDataString(conversationId)}/members", new UserIdsBody(userIds),
            ClientJson.Default.UserIdsBody, ClientJson.Default.GroupChange, ct);

    /// <summary>
    /// Removes another member from a group (admins and owners; only an owner removes an owner): <c>not_admin</c>,
    /// <c>not_owner</c>, <c>member_not_found</c>. The removed member gets the removal and nothing after it.
    /// </summary>
    public Task<GroupChange> RemoveMemberAsync(string conversationId, string userId, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Delete, $"v1/conversations/{Uri.EscapeDataString(conversationId)}/members/{Uri.EscapeDataString(userId)}", null,
            ClientJson.Default.GroupChange, ct);

    /// <summary>
    /// Gives a member a role (one of <see cref="GroupRoles"/>): <c>not_admin</c>, <c>not_owner</c> (the owner role is
    /// an owner's to give and take), <c>member_not_found</c>, <c>last_owner</c>. The role they have already changes nothing (no events).
    /// </summary>
    public Task<GroupChange> SetRoleAsync(string conversationId, string userId, string role, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Put, $"v1/conversations/{Uri.EscapeDataString(conversationId)}/members/{Uri.EscapeDataString(userId)}/role",
            JsonContent.Create(new RoleBody(role), ClientJson.Default.RoleBody), ClientJson.Default.GroupChange, ct);

    /// <summary>Mutes a conversation for this user until <paramref name="until"/> (null: until unmuted); every device of theirs gets a <c>mute</c> update.</summary>
    public Task<MuteState> MuteAsync(string conversationId, DateTimeOffset? until = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Put, $"v1/conversations/{Uri.EscapeDataString(conversationId)}/mute",
            JsonContent.Create(new MuteBody(until), ClientJson.Default.MuteBody), ClientJson.Default.MuteState, ct);

    /// <summary>Unmutes a conversation for this user.</summary>
    public Task<MuteState> UnmuteAsync(string conversationId, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Delete, $"v1/conversations/{Uri.EscapeDataString(conversationId)}/mute", null, ClientJson.Default.MuteState, ct);

    /// <summary>The server's VAPID public key, for subscribing a browser to Web Push.</summary>
    public Task<PushConfig> GetPushConfigAsync(CancellationToken ct = default) => GetAsync("v1/push/config", ClientJson.Default.PushConfig, ct);

    /// <summary>Sets this device's push subscription to a browser's Web Push subscription (its endpoint and keys).</summary>
    public Task<PushSubscriptionInfo> SubscribeWebPushAsync(string endpoint, string p256dh, string auth, CancellationToken ct = default) =>
        SetPushSubscriptionAsync(new PushSubscriptionBody(new WebPushBody(endpoint, new WebPushKeysBody(p256dh, auth)), null), ct);

    /// <summary>Sets this device's push subscription to a token at one of the server's configured webhooks.</summary>
    public Task<PushSubscriptionInfo> SubscribeWebhookAsync(string target, string token, CancellationToken ct = default) =>
        SetPushSubscriptionAsync(new PushSubscriptionBody(null, new WebhookBody(target, token)), ct);

    private Task<PushSubscriptionInfo> SetPushSubscriptionAsync(PushSubscriptionBody body, CancellationToken ct) =>
        SendAsync(HttpMethod.Put, "v1/push/subscription", JsonContent.Create(body, ClientJson.Default.PushSubscriptionBody),
            ClientJson.Default.PushSubscriptionInfo, ct);

    /// <summary>Removes a device's push subscription (null: this device's).</summary>
    public Task UnsubscribePushAsync(string? deviceId = null, CancellationToken ct = default) => SendAsync(HttpMethod.Delete,
        deviceId is null ? "v1/push/subscription" : $"v1/push/subscriptions/{Uri.EscapeDataString(deviceId)}", null, ct);

    /// <summary>The user's push subscriptions, one per device that has one.</summary>
    public async Task<IReadOnlyList<PushSubscriptionInfo>> ListPushSubscriptionsAsync(CancellationToken ct = default) =>
        (await GetAsync("v1/push/subscriptions", ClientJson.Default.PushSubscriptionList, ct)).Subscriptions;

    /// <summary>Turns the text preview in this user's notifications on or off.</summary>
    public Task<PushSettings> SetPushSettingsAsync(bool preview, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Put, "v1/push/settings", JsonContent.Create(new PushSettings(preview), ClientJson.Default.PushSettings),
            ClientJson.Default.PushSettings, ct);

    /// <summary>What became of this user's notifications for messages of a conversation after <paramref name="after"/>.</summary>
    public async Task<IReadOnlyList<PushStatus>> GetPushStatusesAsync(string conversationId, long after = 0, int? limit = null, CancellationToken ct = default) =>
        (await GetAsync($"v1/conversations/{Uri.EscapeDataString(conversationId)}/push?after={after}{(limit is { } l ? $"&limit={l}" : "")}",
            ClientJson.Default.PushStatusList, ct)).Notifications;

    /// <summary>Renames a group (admins and owners).</summary>
    public Task<GroupChange> RenameGroupAsync(string conversationId, string title, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Patch, $"v1/conversations/{Uri.EscapeDataString(conversationId)}",
            JsonContent.Create(new TitleBody(title), ClientJson.Default.TitleBody), ClientJson.Default.GroupChange, ct);

    /// <summary>
    /// The caller leaves a group. The last owner of a group that keeps members hands the owner role on first
    /// (a <c>role_changed</c> event before the <c>member_left</c>).
    /// </summary>
    public Task<GroupChange> LeaveGroupAsync(string conversationId, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"v1/conversations/{Uri.EscapeDataString(conversationId)}/leave", null, ClientJson.Default.GroupChange, ct);

    /// <summary>A conversation's metadata (for a group: its members, owners, admins and title); <c>not_member</c> if the caller is not in it.</summary>
    public Task<Conversation> GetConversationAsync(string conversationId, CancellationToken ct = default) =>
        GetAsync($"v1/conversations/{Uri.EscapeDataString(conversationId)}", ClientJson.Default.Conversation, ct);

    /// <summary>Who of the members a message was for has received it and who has read it.</summary>
    public Task<MessageReceipts> GetMessageReceiptsAsync(string conversationId, long seq, CancellationToken ct = default) =>
        GetAsync($"v1/conversations/{Uri.EscapeDataString(conversationId)}/messages/{seq}/receipts", ClientJson.Default.MessageReceipts, ct);

    /// <summary>The caller's conversations, most recent first.</summary>
    public async Task<IReadOnlyList<ConversationSummary>> ListConversationsAsync(CancellationToken ct = default) =>
        (await GetAsync("v1/conversations", ClientJson.Default.ConversationList, ct)).Conversations;

    /// <summary>A page of history before or after a seq (neither: the newest page).</summary>
    public Task<HistoryPage> GetHistoryAsync(string conversationId, long? before = null, long? after = null, int? limit = null, CancellationToken ct = default)
    {
        var query = new List<string>();
        if (before is not null) query.Add($"before={before}");
        if (after is not null) query.Add($"after={after}");
        if (limit is not null) query.Add($"limit={limit}");
        var q = query.Count == 0 ? "" : "?" + string.Join('&', query);
        return GetAsync($"v1/conversations/{Uri.EscapeDataString(conversationId)}/messages{q}", ClientJson.Default.HistoryPage, ct);
    }

    /// <summary>Sends a message over REST (the socket is faster; both are idempotent on the clientMsgId).</summary>
    public Task<Ack> SendAsync(string conversationId, string clientMsgId, string text, CancellationToken ct = default) =>
        PostAsync($"v1/conversations/{Uri.EscapeDataString(conversationId)}/messages", new SendBody(clientMsgId, text),
            ClientJson.Default.SendBody, ClientJson.Default.Ack, ct);

    /// <summary>Moves the read mark forward.</summary>
    public Task<ReadMark> MarkReadAsync(string conversationId, long seq, CancellationToken ct = default) =>
        PostAsync($"v1/conversations/{Uri.EscapeDataString(conversationId)}/read", new ReadBody(seq),
            ClientJson.Default.ReadBody, ClientJson.Default.ReadMark, ct);

    /// <summary>Updates after a cursor.</summary>
    public Task<SyncPage> SyncAsync(long after, int? limit = null, CancellationToken ct = default) =>
        GetAsync($"v1/sync?after={after}" + (limit is null ? "" : $"&limit={limit}"), ClientJson.Default.SyncPage, ct);

    /// <summary>
    /// The presence of users the caller shares a conversation with. Sent as <c>POST /v1/presence/query</c>:
    /// the ids in a URL (<c>GET /v1/presence</c>) outgrow what many proxies take long before the server's limit.
    /// </summary>
    public async Task<IReadOnlyList<Presence>> GetPresenceAsync(IEnumerable<string> userIds, CancellationToken ct = default) =>
        (await PostAsync("v1/presence/query", new UserIdsBody([.. userIds]), ClientJson.Default.UserIdsBody, ClientJson.Default.PresenceList, ct)).Users;

    /// <summary>
    /// Long-polls: the updates after <paramref name="after"/> as soon as there are any, or an empty answer
    /// once <paramref name="wait"/> (default: the server's hold, 25 s) is over.
    /// </summary>
    public Task<PollResult> PollAsync(long after, int? limit = null, TimeSpan? wait = null, CancellationToken ct = default) =>
        GetAsync($"v1/poll?after={after}" + (limit is null ? "" : $"&limit={limit}")
            + (wait is null ? "" : $"&wait={wait.Value.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}"),
            ClientJson.Default.PollResult, ct);

    /// <summary>Replaces this polling device's presence subscription; changes arrive as poll events.</summary>
    public async Task<IReadOnlyList<Presence>> SubscribePresenceAsync(IReadOnlyList<string> userIds, CancellationToken ct = default)
    {
        using var response = await _http.PutAsJsonAsync("v1/poll/presence", new UserIdsBody(userIds), ClientJson.Default.UserIdsBody, ct);
        return (await ReadAsync(response, ClientJson.Default.PresenceList, ct)).Users;
    }

    /// <summary>Signals that this user is typing in a conversation.</summary>
    public async Task SendTypingAsync(string conversationId, CancellationToken ct = default)
    {
        using var response = await _http.PostAsync($"v1/conversations/{Uri.EscapeDataString(conversationId)}/typing", null, ct);
        if (!response.IsSuccessStatusCode) await ReadAsync(response, ClientJson.Default.ProblemBody, ct);
    }

    private async Task SendAsync(HttpMethod method, string path, HttpContent? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body };
        using var response = await _http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode) await ReadAsync(response, ClientJson.Default.ProblemBody, ct);
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? body, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body };
        using var response = await _http.SendAsync(request, ct);
        return await ReadAsync(response, type, ct);
    }

    private async Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using var response = await _http.GetAsync(path, ct);
        return await ReadAsync(response, type, ct);
    }

    private async Task<TOut> PostAsync<TIn, TOut>(string path, TIn body, JsonTypeInfo<TIn> inType, JsonTypeInfo<TOut> outType, CancellationToken ct)
    {
        using var response = await _http.PostAsJsonAsync(path, body, inType, ct);
        return await ReadAsync(response, outType, ct);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken ct)
    {
        if (!response.IsSuccessStatusCode)
        {
            ProblemBody? problem = null;
            try { problem = await response.Content.ReadFromJsonAsync(ClientJson.Default.ProblemBody, ct); }
            catch (System.Text.Json.JsonException) { }
            throw new MessengerClientException(problem?.Code ?? "http_" + (int)response.StatusCode,
                problem?.Detail ?? problem?.Title ?? response.ReasonPhrase ?? "request failed", (int)response.StatusCode,
                response.Headers.RetryAfter?.Delta);
        }
        return (await response.Content.ReadFromJsonAsync(type, ct))!;
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();
}
