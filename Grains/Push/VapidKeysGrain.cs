using System.Buffers.Text;
using System.Security.Cryptography;
using Messenger.Grains.Hosting;

namespace Messenger.Grains.Push;

/// <summary>The server's VAPID key pair as stored (grain storage: the SQLite file in the data directory, or PostgreSQL).</summary>
[GenerateSerializer]
public sealed class VapidKeysState
{
    /// <summary>The key pair, or null before the first call.</summary>
    [Id(0)] public VapidKeys? Keys { get; set; }
}

/// <summary>Creates the server's VAPID key pair on the first call ever and keeps it, so every silo signs with one key.</summary>
public sealed class VapidKeysGrain([PersistentState("vapid", MessengerSiloExtensions.GrainStateStorage)] IPersistentState<VapidKeysState> state)
    : Grain, IVapidKeysGrain
{
    public async Task<VapidKeys> GetAsync()
    {
        if (state.State.Keys is { } keys) return keys;
        // Kept only once durable: a key that was served but not stored would be replaced after a restart,
        // and every browser subscribed with it would stop getting notifications.
        var created = Generate();
        var next = new VapidKeysState { Keys = created };
        var previous = state.State;
        state.State = next;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State = previous;
            throw;
        }
        return created;
    }

    public async Task<string> GetPublicKeyAsync() => (await GetAsync()).PublicKey;

    /// <summary>A new P-256 key pair: the public key as the 65-byte uncompressed point, the private one as the 32-byte scalar.</summary>
    public static VapidKeys Generate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = key.ExportParameters(includePrivateParameters: true);
        var point = new byte[65];
        point[0] = 0x04;
        p.Q.X!.CopyTo(point, 1);
        p.Q.Y!.CopyTo(point, 33);
        return new VapidKeys(Base64Url.EncodeToString(point), Base64Url.EncodeToString(p.D!));
    }
}
