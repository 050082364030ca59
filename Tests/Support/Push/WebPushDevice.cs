using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;

namespace Messenger.Tests.Support.Push;

/// <summary>
/// One browser subscription at the local push service: what a browser's PushManager hands the page (endpoint,
/// P-256 public key, auth secret), the private half that decrypts what arrives, and what arrived.
/// </summary>
public sealed class WebPushDevice
{
    private readonly ECDiffieHellman _key;
    private readonly byte[] _publicKey;
    private readonly byte[] _authSecret;
    private readonly Inbox<ReceivedPush> _inbox;
    private readonly Func<string> _receiverErrors;
    private volatile bool _gone;

    internal WebPushDevice(string id, string endpoint, ECDiffieHellman key, byte[] authSecret, Func<string> receiverErrors)
    {
        var parameters = key.ExportParameters(includePrivateParameters: false);
        _key = key;
        _publicKey = [0x04, .. parameters.Q.X!, .. parameters.Q.Y!];
        _authSecret = authSecret;
        _receiverErrors = receiverErrors;
        Id = id;
        Endpoint = endpoint;
        P256dh = Base64Url.EncodeToString(_publicKey);
        Auth = Base64Url.EncodeToString(authSecret);
        _inbox = new Inbox<ReceivedPush>($"push device {endpoint}");
    }

    /// <summary>The last path segment of <see cref="Endpoint"/>.</summary>
    public string Id { get; }

    /// <summary>Where an application server POSTs push messages for this device.</summary>
    public string Endpoint { get; }

    /// <summary>The subscription's ECDH public key: the 65-byte uncompressed P-256 point, base64url without padding.</summary>
    public string P256dh { get; }

    /// <summary>The subscription's 16-byte authentication secret, base64url without padding.</summary>
    public string Auth { get; }

    /// <summary>Whether <see cref="Unsubscribe"/> was called.</summary>
    public bool IsGone => _gone;

    /// <summary>Every valid push so far, in arrival order, whatever it was answered with.</summary>
    public IReadOnlyList<ReceivedPush> Received => _inbox.Received;

    /// <summary>
    /// Answers the next valid push not already answered by an earlier call with <paramref name="status"/> (and a
    /// Retry-After of <paramref name="retryAfter"/>, in whole seconds, if given). Calls queue up, first in first out;
    /// once they are used up, valid pushes get 201 Created again.
    /// </summary>
    public void RespondWith(HttpStatusCode status, TimeSpan? retryAfter = null) => _inbox.Script(status, retryAfter);

    /// <summary>The subscription expires: from now on every valid push is answered 410 Gone (and still recorded).</summary>
    public void Unsubscribe() => _gone = true;

    /// <summary>
    /// The next recorded push that no earlier call returned, in arrival order; waits up to <paramref name="timeout"/>
    /// for one, then throws <see cref="TimeoutException"/> listing the push service's errors.
    /// </summary>
    public Task<ReceivedPush> NextAsync(TimeSpan timeout) => _inbox.NextAsync(timeout, _receiverErrors);

    /// <summary>Releases the private key once the receiver has stopped and no request can need it.</summary>
    internal void ReleaseKey() => _key.Dispose();

    internal byte[] Decrypt(ReadOnlySpan<byte> body) => WebPushDecryption.Decrypt(body, _key, _publicKey, _authSecret);

    /// <summary>Records a valid push and picks its answer: 410 once gone, else the next scripted answer, else 201.</summary>
    internal ScriptedAnswer Accept(Func<HttpStatusCode, ReceivedPush> record) =>
        _inbox.Accept(
            record,
            fallback: new ScriptedAnswer(HttpStatusCode.Created, null),
            forced: _gone ? new ScriptedAnswer(HttpStatusCode.Gone, null) : null);
}
