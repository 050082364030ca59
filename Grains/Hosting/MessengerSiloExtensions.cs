using Messenger.Grains.Delivery;
using Messenger.Grains.Presence;
using Messenger.Grains.Push;
using Messenger.Grains.Storage;
using Messenger.Grains.Storage.Postgres;
using Messenger.Grains.Storage.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;

namespace Messenger.Grains.Hosting;

/// <summary>Adds the messenger's grains, options and storage to a silo; shared by every host.</summary>
public static class MessengerSiloExtensions
{
    /// <summary>
    /// Registers options (validated at start-up), the storage backend named by <c>Storage:Provider</c>,
    /// its migrations, fan-out recovery, the silo's outbox to the gateways and its heartbeat to them. A
    /// <see cref="MessengerStorage"/> registered before this call is used instead of the configured one.
    /// </summary>
    public static ISiloBuilder AddMessenger(this ISiloBuilder silo, IConfiguration configuration)
    {
        var services = silo.Services;
        services.AddValidatedOptions<MessengerOptions>(configuration, MessengerOptions.SectionName, o => o.Validate());
        services.AddValidatedOptions<PresenceOptions>(configuration, PresenceOptions.SectionName, o => o.Validate());
        services.AddValidatedOptions<StorageOptions>(configuration, StorageOptions.SectionName, o => o.Validate());
        services.AddValidatedOptions<PushOptions>(configuration, PushOptions.SectionName, o => o.Validate());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => OpenStorage(sp.GetRequiredService<IOptions<StorageOptions>>().Value));
        services.AddSingleton(sp => sp.GetRequiredService<MessengerStorage>().Accounts);
        services.AddSingleton(sp => sp.GetRequiredService<MessengerStorage>().Conversations);
        services.AddSingleton(sp => sp.GetRequiredService<MessengerStorage>().UserLogs);
        services.AddSingleton(sp => sp.GetRequiredService<MessengerStorage>().Pushes);
        services.TryAddSingleton<LocalGateways>(); // shared with a gateway in the same process (standalone)
        services.AddSingleton<UpdatePusher>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, MessengerSiloLifecycle>();
        services.AddSingleton<PushSender>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, PushRecovery>();
        services.AddSingleton(sp => new GatewayLeases(sp.GetRequiredService<IOptions<MessengerOptions>>().Value.DeviceLease,
            sp.GetRequiredService<IOptions<GrainCollectionOptions>>().Value.CollectionAge / 2));
        services.AddSingleton<OnlineUsers>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, PresenceUpkeep>();
        AddOrleansProviders(silo, StorageOptions.From(configuration));
        return silo;
    }

    /// <summary>The name of the grain storage that grains' own small state uses (<c>[PersistentState(name, GrainStateStorage)]</c>).</summary>
    public const string GrainStateStorage = "messenger";

    // Grains' own small state and durable reminders. On PostgreSQL: Orleans' ADO.NET providers in the
    // database holding partition 0 (their tables and queries come with the storage migrations), and a
    // filter that answers transient database failures "unavailable". On SQLite: the backend's own
    // grain storage and reminder table. Grain state is in the Orleans serializer's version-tolerant format.
    private static void AddOrleansProviders(ISiloBuilder silo, StorageOptions options)
    {
        silo.Services.TryAddSingleton<IGrainStorageSerializer>(sp => new OrleansGrainStorageSerializer(sp.GetRequiredService<Serializer>()));
        if (options.IsPostgres)
        {
            silo.AddIncomingGrainCallFilter<StorageFailureFilter>();
            silo.AddAdoNetGrainStorage(GrainStateStorage, (OptionsBuilder<AdoNetGrainStorageOptions> state) =>
                state.Configure<MessengerStorage>((o, storage) => (o.Invariant, o.ConnectionString) = Tables(storage)));
            silo.UseAdoNetReminderService((OptionsBuilder<AdoNetReminderTableOptions> reminders) =>
                reminders.Configure<MessengerStorage>((o, storage) => (o.Invariant, o.ConnectionString) = Tables(storage)));
            return;
        }
        silo.Services.AddKeyedSingleton<IGrainStorage>(GrainStateStorage, (sp, _) =>
            Own(sp, s => s.GrainStorage)(sp.GetRequiredService<IGrainStorageSerializer>()));
        silo.AddReminders();
        silo.Services.AddSingleton(sp => Own(sp, s => s.Reminders));
    }

    private static (string, string) Tables(MessengerStorage storage) =>
        storage.OrleansTables is { } t ? (t.Invariant, t.ConnectionString)
            : throw new InvalidOperationException($"{StorageOptions.SectionName}:Provider is Postgres, but the storage registered has no tables for Orleans' providers.");

    private static T Own<T>(IServiceProvider services, Func<MessengerStorage, T?> provider) where T : class =>
        provider(services.GetRequiredService<MessengerStorage>())
            ?? throw new InvalidOperationException($"{StorageOptions.SectionName}:Provider is not Postgres, but the storage registered does not bring its own {typeof(T).Name}.");

    /// <summary>Opens the storage the <c>Storage</c> section names (validated here), e.g. to migrate it.</summary>
    public static MessengerStorage OpenConfiguredStorage(IConfiguration configuration)
    {
        var options = StorageOptions.From(configuration);
        options.Validate();
        return OpenStorage(options);
    }

    // The options arrive validated (IOptions runs the validator registered above).
    private static MessengerStorage OpenStorage(StorageOptions options) => options.IsPostgres
        ? PostgresStorage.Open(options.Postgres)
        : SqliteStorage.Open(Path.Combine(options.DataDirectory, SqliteStorage.FileName), options.Sqlite);
}
