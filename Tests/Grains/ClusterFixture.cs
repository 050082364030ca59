using Orleans.Configuration;
using System.Globalization;
using Messenger.Grains;
using Messenger.Grains.Hosting;
using Messenger.Grains.Storage;
using Messenger.Grains.Storage.Postgres;
using Messenger.Grains.Storage.Sqlite;
using Messenger.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;

namespace Messenger.Tests.Grains;

/// <summary>
/// In-process silos (two by default) configured by the project's own <see cref="MessengerSiloExtensions.AddMessenger"/>
/// over real storage, plus a client. Each backend's fixture places the user logs apart from the
/// conversations (another SQLite file; other PostgreSQL databases for half the partitions), as a
/// partitioned backend does: every grain test thereby shows that nothing needs a query or
/// transaction spanning both. Tests isolate themselves by registering fresh users, so one cluster
/// serves a whole collection.
/// </summary>
public abstract class ClusterFixture : IAsyncLifetime
{
    private readonly int _silos;
    private readonly IReadOnlyDictionary<string, string?> _settings;

    protected ClusterFixture(int silos, IReadOnlyDictionary<string, string?> settings)
    {
        _silos = silos;
        _settings = settings;
    }

    /// <summary>A setting of these fixtures only: how long an activation may stay idle before it is collected.</summary>
    public const string CollectionAgeKey = "Tests:CollectionAge";

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;


    /// <summary>A new handle on the cluster's storage, e.g. to write what a crash leaves behind.</summary>
    public abstract MessengerStorage OpenStorage();

    /// <summary>Creates the empty data set the silos will migrate.</summary>
    protected abstract Task CreateDataAsync();

    /// <summary>Settings that name the storage (for a backend the silos open from configuration).</summary>
    protected virtual IReadOnlyDictionary<string, string?> StorageSettings => new Dictionary<string, string?>();

    /// <summary>Registers the silos' storage directly (for a backend not opened from configuration).</summary>
    protected virtual void RegisterStorage(IServiceCollection services) { }

    /// <summary>Removes the data set once the silos are gone.</summary>
    protected abstract Task DeleteDataAsync();

    public async Task InitializeAsync()
    {
        await CreateDataAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(_settings).AddInMemoryCollection(StorageSettings).Build();
        var builder = new InProcessTestClusterBuilder((short)_silos);
        builder.ConfigureSilo((_, silo) =>
        {
            RegisterStorage(silo.Services);
            silo.AddMessenger(configuration);
            // Test plumbing, not a product setting: collect idle activations after this (default: Orleans' own).
            if (configuration[CollectionAgeKey] is { } age)
            {
                silo.Configure<GrainCollectionOptions>(o =>
                {
                    o.CollectionAge = TimeSpan.Parse(age, CultureInfo.InvariantCulture);
                    o.CollectionQuantum = o.CollectionAge / 4;
                });
            }
            silo.AddIncomingGrainCallFilter<DeliveryGateFilter>();
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        await DeleteDataAsync();
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

    /// <summary>
    /// The user's log (its first 100 updates) once it holds <paramref name="count"/> updates (of <paramref name="kinds"/>,
    /// if given); fails after 15 s. Deliveries run on their own after the ack, so a test waits for them.
    /// </summary>
    public async Task<IReadOnlyList<UserUpdate>> WaitForLogAsync(UserProfile user, int count, UpdateKind[]? kinds = null)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            var page = await User(user).SyncAsync(0, 100);
            if (page.Updates.Count(u => kinds is null || kinds.Contains(u.Kind)) >= count) return page.Updates;
            await Task.Delay(20, deadline.Token);
        }
    }

    /// <summary>
    /// Attaches a recording device session to a user (device <paramref name="deviceId"/>, by default
    /// <c>device-{connectionId}</c>, with a token of <paramref name="generation"/>: 0 is what a token from
    /// before device records carries); dispose it to detach.
    /// </summary>
    public async Task<UpdateRecorder> AttachAsync(UserProfile user, string connectionId = "conn-1", long generation = 0, string? deviceId = null)
    {
        var recorder = new UpdateRecorder(Client, User(user), connectionId);
        recorder.AttachedAtUserSeq = await User(user).AttachDeviceAsync(connectionId, deviceId ?? "device-" + connectionId, generation, recorder.Reference);
        return recorder;
    }
}

/// <summary>The cluster over SQLite: accounts and conversations in one file, user logs in another.</summary>
public sealed class SqliteClusterFixture : ClusterFixture
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "messenger-grain-tests", Guid.NewGuid().ToString("N"));

    public SqliteClusterFixture() : this(2, new Dictionary<string, string?>()) { }

    internal SqliteClusterFixture(int silos, IReadOnlyDictionary<string, string?> settings) : base(silos, settings) { }


    public override MessengerStorage OpenStorage() =>
        SqliteStorage.OpenSplit(Path.Combine(_dataDirectory, SqliteStorage.FileName), Path.Combine(_dataDirectory, "user-logs.db"));

    // The split (user logs in a file of their own) is not a configuration the product offers: registered directly.
    protected override void RegisterStorage(IServiceCollection services) => services.AddSingleton(_ => OpenStorage());

    protected override Task CreateDataAsync()
    {
        Directory.CreateDirectory(_dataDirectory);
        return Task.CompletedTask;
    }

    protected override Task DeleteDataAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDirectory, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>The cluster over a real PostgreSQL server, its partitions split over two databases.</summary>
public sealed class PostgresClusterFixture : ClusterFixture
{
    private PostgresDataSet _data = null!;

    public PostgresClusterFixture() : this(2, new Dictionary<string, string?>()) { }

    internal PostgresClusterFixture(int silos, IReadOnlyDictionary<string, string?> settings) : base(silos, settings) { }


    public override MessengerStorage OpenStorage() => PostgresStorage.Open(_data.Options);

    // Opened by the silos from configuration, as in production (which also picks Orleans' ADO.NET grain storage).
    protected override IReadOnlyDictionary<string, string?> StorageSettings => _data.Settings();

    protected override async Task CreateDataAsync() => _data = await PostgresDataSet.CreateAsync("grains");

    protected override async Task DeleteDataAsync() => await _data.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class SqliteCluster : ICollectionFixture<SqliteClusterFixture>
{
    public const string Name = "two silos over SQLite";
}

[CollectionDefinition(Name)]
public sealed class PostgresCluster : ICollectionFixture<PostgresClusterFixture>
{
    public const string Name = "two silos over PostgreSQL";
}
