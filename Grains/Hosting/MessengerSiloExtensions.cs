using Messenger.Grains.Storage;
using Messenger.Grains.Storage.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Messenger.Grains.Hosting;

/// <summary>Adds the messenger's grains, options and store to a silo; shared by every host.</summary>
public static class MessengerSiloExtensions
{
    /// <summary>Registers options (validated at start-up), the store, its migrations and fan-out recovery.</summary>
    public static ISiloBuilder AddMessenger(this ISiloBuilder silo, IConfiguration configuration)
    {
        var services = silo.Services;
        services.AddOptions<MessengerOptions>()
            .Bind(configuration.GetSection(MessengerOptions.SectionName))
            .Validate(o => { o.Validate(); return true; })
            .ValidateOnStart();
        services.AddOptions<PresenceOptions>()
            .Bind(configuration.GetSection(PresenceOptions.SectionName))
            .Validate(o => { o.Validate(); return true; })
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<StorageOptions>()
            .Bind(configuration.GetSection(StorageOptions.SectionName))
            .Validate(o => { o.Validate(); return true; })
            .ValidateOnStart();
        services.AddSingleton<IMessageStore>(sp =>
        {
            var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return new SqliteMessageStore(Path.Combine(storage.DataDirectory, "messenger.db"));
        });
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, MessengerSiloLifecycle>();
        return silo;
    }
}
