using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>One real gateway process shared by the tests of a collection.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public ServerProcess Server { get; private set; } = null!;
    public Uri Url => Server.BaseAddress;

    public async Task InitializeAsync() => Server = await ServerProcess.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "gateway process";
}
