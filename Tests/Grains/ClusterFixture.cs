using Messenger.Grains;
using Messenger.Grains.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;

namespace Messenger.Tests.Grains;

/// <summary>
/// Two in-process silos configured by the project's own <see cref="MessengerSiloExtensions.AddMessenger"/>,
/// sharing one real SQLite store in a temp directory, plus a client. Tests isolate themselves by
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

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>(_settings) { ["Storage:DataDirectory"] = _dataDirectory };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var builder = new InProcessTestClusterBuilder((short)_silos);
        builder.ConfigureSilo((_, silo) => silo.AddMessenger(configuration));
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
