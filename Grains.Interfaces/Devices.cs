namespace Messenger.Grains;

/// <summary>One logged-in device of a user, as the user's devices list shows it.</summary>
/// <param name="DeviceId">The id the device logs in with (chosen by the client).</param>
/// <param name="Name">The name the client gave the device at login, or null.</param>
/// <param name="CreatedAt">When the device first logged in (since it was last logged out).</param>
/// <param name="LastActiveAt">When the server last saw the device: a login, a socket or long-poll session
/// starting, renewed or ending, a token checked after a while (approximate).</param>
/// <param name="Live">Whether the device has a socket or long-poll session now.</param>
[GenerateSerializer, Immutable]
public sealed record DeviceInfo(
    [property: Id(0)] string DeviceId,
    [property: Id(1)] string? Name,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] DateTimeOffset LastActiveAt,
    [property: Id(4)] bool Live);

/// <summary>
/// Which device tokens of one user are good, as the user grain decides and every gateway caches, so a
/// token is checked without a grain call. A token names its device and a generation (given at login):
/// it is good when the device has a record and the token's generation is at least the record's, or
/// when the device has none and the generation is at least <see cref="Floor"/>. Logging a device out
/// removes its record and raises the floor above every generation given so far, so every token it
/// had stops working, while a later login of the same device gets a generation at the floor or above.
/// </summary>
/// <param name="UserId">The user.</param>
/// <param name="Exists">False for a user without an account (never registered, or deleted): no token is good.</param>
/// <param name="Floor">The lowest generation good for a device without a record (0: tokens without a
/// generation, issued before devices were recorded, are good).</param>
/// <param name="Devices">Each logged-in device and the generation its tokens carry.</param>
/// <param name="Deleted">The account was deleted (as opposed to never known): its tokens are logged out.</param>
[GenerateSerializer, Immutable]
public sealed record DeviceGrants(
    [property: Id(0)] string UserId,
    [property: Id(1)] bool Exists,
    [property: Id(2)] long Floor,
    [property: Id(3)] IReadOnlyDictionary<string, long> Devices,
    [property: Id(4)] bool Deleted = false)
{
    /// <summary>Whether a token of <paramref name="deviceId"/> carrying <paramref name="generation"/> is good.</summary>
    public bool Allows(string deviceId, long generation) =>
        Exists && generation >= (Devices.TryGetValue(deviceId, out var issued) ? issued : Floor);

    /// <summary>
    /// Why such a token is refused, or null when it is good: <see cref="ErrorCode.LoggedOut"/> for a device
    /// logged out or an account deleted, <see cref="ErrorCode.Unauthorized"/> for a user never known here.
    /// </summary>
    public ErrorCode? Refusal(string deviceId, long generation) =>
        Allows(deviceId, generation) ? null : !Exists && !Deleted ? ErrorCode.Unauthorized : ErrorCode.LoggedOut;

    /// <summary>
    /// Whether these grants are at least as recent as <paramref name="other"/> (of the same user): a deleted
    /// user stays deleted and the floor never falls. Two with the same floor differ at most by devices that
    /// logged in meanwhile, whose tokens both allow, so either may stand.
    /// </summary>
    public bool Supersedes(DeviceGrants other) => other.Exists && (!Exists || Floor >= other.Floor);
}
