using Messenger.Grains;
using Messenger.Grains.Hosting;
using Messenger.Grains.Storage;
using Messenger.Grains.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;

namespace Messenger.Tests.Grains;

/// <summary>
/// Two in-process silos configured by the project's own <see cref="MessengerSiloExtensions.AddMessenger"/>,
/// sharing real SQLite storage in a temp directory, plus a client. The user logs live in a database
/// file of their own, apart from accounts and conversations, as a partitioned backend may place
/// them: every grain test thereby shows that nothing needs a query or transaction spanning both. Tests isolate themselves by
/// registering fresh users, so one cluster serves the whole collection.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "messenger-grain-tests", Guid.NewGuid().ToString("N"));

    public InProcessTestCluster Cluster { get; private set; } = null!;

    private readonly int _silos;
    private readonly IReadOnlyDictionary<string, string?> _settings;

    /// <summary>Two silos with default settings (the shared collection fixture).</summary>
    public ClusterFixture() : this(2, new Dictionary<string, string?>()) { }

    /// <summary>A cluster with settings of its own (e.g. short presence timings).</summary>
    public static ClusterFixture WithSettings(int silos, IReadOnlyDictionary<string, string?> settings) => new(silos, settings);

    private ClusterFixture(int silos, IReadOnlyDictionary<string, string?> settings)
    {
        _silos = silos;
        _settings = settings;
    }

    public IClusterClient Client => Cluster.Client;

    public string DataDirectory => _dataDirectory;

    /// <summary>A new handle on the cluster's storage (both files), e.g. to write what a crash leaves behind.</summary>
    public MessengerStorage OpenStorage() =>
        SqliteStorage.OpenSplit(Path.Combine(_dataDirectory, SqliteStorage.FileName), Path.Combine(_dataDirectory, "user-logs.db"));

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>(_settings) { ["Storage:DataDirectory"] = _dataDirectory };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var builder = new InProcessTestClusterBuilder((short)_silos);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton(_ => OpenStorage());
            silo.AddMessenger(configuration);
            silo.AddIncomingGrainCallFilter<DeliveryGateFilter>();
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    /// <summary>Registers a user with a fresh username; the password hash is opaque to the grains.</summary>
    public Task<UserProfile> NewUserAsync() =>
        Client.GetGrain<IAccountDirectoryGrain>(0).RegisterAsync("t" + Guid.NewGuid().ToString("N")[..12], "not-a-real-hash");

    /// <summary>Opens the direct conversation of two users, as <paramref name="caller"/>.</summary>
    public async Task<IConversationGrain> OpenDirectAsync(UserProfile caller, UserProfile other)
    {
        var conversation = Conversation(caller, other);
        await conversation.OpenDirectAsync(caller.UserId);
        return conversation;
    }

    public IConversationGrain Conversation(UserProfile a, UserProfile b) =>
        Client.GetGrain<IConversationGrain>(ConversationIds.Direct(a.UserId, b.UserId));

    public IUserGrain User(UserProfile user) => Client.GetGrain<IUserGrain>(user.UserId);

    /// <summary>Attaches a recording device session to a user; dispose it to detach.</summary>
    public async Task<UpdateRecorder> AttachAsync(UserProfile user, string connectionId = "conn-1")
    {
        var recorder = new UpdateRecorder(Client, User(user), connectionId);
        recorder.AttachedAtUserSeq = await User(user).AttachDeviceAsync(connectionId, "device-" + connectionId, recorder.Reference);
        return recorder;
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "two-silo cluster";
}
