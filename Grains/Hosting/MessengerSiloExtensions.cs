using Messenger.Grains.Delivery;
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
    /// its migrations, fan-out recovery and the silo's outbox to the gateways. A
    /// <see cref="MessengerStorage"/> registered before this call is used instead of the configured one.
    /// </summary>
    public static ISiloBuilder AddMessenger(this ISiloBuilder silo, IConfiguration configuration)
    {
        var services = silo.Services;
        AddValidatedOptions<MessengerOptions>(services, configuration, MessengerOptions.SectionName, o => o.Validate());
        AddValidatedOptions<PresenceOptions>(services, configuration, PresenceOptions.SectionName, o => o.Validate());
        AddValidatedOptions<StorageOptions>(services, configuration, StorageOptions.SectionName, o => o.Validate());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => OpenStorage(sp.GetRequiredService<IOptions<StorageOptions>>().Value));
        services.AddSingleton(sp => sp.GetRequiredService<MessengerStorage>().Accounts);
        services.AddSingleton(sp => sp.GetRequiredService<MessengerStorage>().Conversations);
        services.AddSingleton(sp => sp.GetRequiredService<MessengerStorage>().UserLogs);
        services.AddSingleton<UpdatePusher>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, MessengerSiloLifecycle>();
        var storageOptions = configuration.GetSection(StorageOptions.SectionName).Get<StorageOptions>() ?? new StorageOptions();
        AddGrainStateStorage(silo, storageOptions);
        AddReminders(silo, storageOptions);
        return silo;
    }

    /// <summary>The name of the grain storage that grains' own small state uses (<c>[PersistentState(name, GrainStateStorage)]</c>).</summary>
    public const string GrainStateStorage = "messenger";

    // Grains' own small state: Orleans' ADO.NET provider in the PostgreSQL database holding partitions
    // from 0 (its tables and queries come with the storage migrations), or the SQLite backend's own
    // provider. Both write the Orleans serializer's version-tolerant format.
    private static void AddGrainStateStorage(ISiloBuilder silo, StorageOptions options)
    {
        silo.Services.TryAddSingleton<IGrainStorageSerializer>(sp => new OrleansGrainStorageSerializer(sp.GetRequiredService<Serializer>()));
        if (options.IsPostgres)
        {
            silo.AddIncomingGrainCallFilter<StorageFailureFilter>();
            silo.AddAdoNetGrainStorage(GrainStateStorage, (OptionsBuilder<AdoNetGrainStorageOptions> state) => state.Configure<MessengerStorage>((o, storage) =>
            {
                o.Invariant = storage.OrleansTables.Invariant;
                o.ConnectionString = storage.OrleansTables.ConnectionString;
            }));
            return;
        }
        silo.Services.AddKeyedSingleton<IGrainStorage>(GrainStateStorage, (sp, _) =>
            (sp.GetRequiredService<MessengerStorage>().GrainStorage
                ?? throw new InvalidOperationException($"{StorageOptions.SectionName}:Provider is not Postgres, but the storage registered has no grain storage of its own."))
            (sp.GetRequiredService<IGrainStorageSerializer>()));
    }

    // Durable reminders: Orleans' ADO.NET provider in the PostgreSQL database holding partition 0 (its
    // table and queries come with the storage migrations), or the SQLite backend's own table.
    private static void AddReminders(ISiloBuilder silo, StorageOptions options)
    {
        if (options.IsPostgres)
        {
            silo.UseAdoNetReminderService((OptionsBuilder<AdoNetReminderTableOptions> reminders) => reminders.Configure<MessengerStorage>((o, storage) =>
            {
                o.Invariant = storage.OrleansTables.Invariant;
                o.ConnectionString = storage.OrleansTables.ConnectionString;
            }));
            return;
        }
        silo.AddReminders();
        silo.Services.AddSingleton(sp => sp.GetRequiredService<MessengerStorage>().Reminders
            ?? throw new InvalidOperationException($"{StorageOptions.SectionName}:Provider is not Postgres, but the storage registered has no reminder table of its own."));
    }

    /// <summary>Opens the storage the <c>Storage</c> section names (validated here), e.g. to migrate it.</summary>
    public static MessengerStorage OpenConfiguredStorage(IConfiguration configuration)
    {
        var options = configuration.GetSection(StorageOptions.SectionName).Get<StorageOptions>() ?? new StorageOptions();
        options.Validate();
        return OpenStorage(options);
    }

    // The options arrive validated (IOptions runs the validator registered above).
    private static MessengerStorage OpenStorage(StorageOptions options) => options.IsPostgres
        ? PostgresStorage.Open(options.Postgres)
        : SqliteStorage.Open(Path.Combine(options.DataDirectory, SqliteStorage.FileName), options.SimulatedFlushLatency);

    private static void AddValidatedOptions<T>(IServiceCollection services, IConfiguration configuration, string section, Action<T> validate)
        where T : class
    {
        services.AddOptions<T>()
            .Bind(configuration.GetSection(section))
            .Validate(o => { validate(o); return true; })
            .ValidateOnStart();
    }
}
