using Messenger.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Messenger.Tests.Grains;

/// <summary>
/// Grains' own small state (<c>IPersistentState</c>) through the grain storage the silos configure:
/// our SQLite provider in standalone, Orleans' ADO.NET provider over our PostgreSQL migration in a
/// cluster. The same behaviour from both, with two silos sharing the store: what one writes the other
/// reads, and a write from a stale activation (an old ETag) is refused and changes nothing.
/// </summary>
public abstract class GrainStateStorageTests(ClusterFixture cluster)
{
    [Collection(SqliteCluster.Name)]
    public sealed class OnSqlite(SqliteClusterFixture cluster) : GrainStateStorageTests(cluster);

    [Collection(PostgresCluster.Name)]
    public sealed class OnPostgres(PostgresClusterFixture cluster) : GrainStateStorageTests(cluster);

    private const string StateName = "settings";

    private IGrainStorage Storage(int silo) =>
        cluster.Cluster.Silos[silo].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(MessengerSiloExtensions.GrainStateStorage);

    private static GrainId NewGrain() => GrainId.Create("user", "u" + Guid.NewGuid().ToString("N"));

    private static GrainState<Dictionary<string, string>> Fresh() => new(new Dictionary<string, string>());

    private async Task<GrainState<Dictionary<string, string>>> ReadAsync(int silo, GrainId grain)
    {
        var state = Fresh();
        await Storage(silo).ReadStateAsync(StateName, grain, state);
        return state;
    }

    [Fact]
    public async Task Read_NothingStored_GivesAnEmptyStateWithoutETag()
    {
        var state = await ReadAsync(0, NewGrain());

        Assert.Empty(state.State!);
        Assert.Null(state.ETag);
        Assert.False(state.RecordExists);
    }

    [Fact]
    public async Task Write_ThenReadOnTheOtherSilo_GivesTheStateAndItsETag()
    {
        var grain = NewGrain();
        var state = await ReadAsync(0, grain);
        state.State!["preview"] = "on";

        await Storage(0).WriteStateAsync(StateName, grain, state);

        var read = await ReadAsync(1, grain);
        Assert.Equal("on", read.State!["preview"]);
        Assert.Equal(state.ETag, read.ETag);
        Assert.NotNull(read.ETag);
        Assert.True(read.RecordExists);
    }

    [Fact]
    public async Task Write_WithAStaleETag_IsRefused_AndTheStoredStateStays()
    {
        var grain = NewGrain();
        var first = await ReadAsync(0, grain);
        first.State!["mute"] = "a";
        await Storage(0).WriteStateAsync(StateName, grain, first);
        var current = await ReadAsync(1, grain);
        var stale = await ReadAsync(0, grain);
        current.State!["mute"] = "b";
        await Storage(1).WriteStateAsync(StateName, grain, current);

        stale.State!["mute"] = "c";
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage(0).WriteStateAsync(StateName, grain, stale));

        Assert.Equal("b", (await ReadAsync(0, grain)).State!["mute"]);
    }

    [Fact]
    public async Task Write_TwoActivationsThatBothSawNothing_OnlyTheFirstWins()
    {
        var grain = NewGrain();
        var one = await ReadAsync(0, grain);
        var other = await ReadAsync(1, grain);
        one.State!["who"] = "one";
        other.State!["who"] = "other";

        await Storage(0).WriteStateAsync(StateName, grain, one);
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage(1).WriteStateAsync(StateName, grain, other));

        Assert.Equal("one", (await ReadAsync(1, grain)).State!["who"]);
    }

    [Fact]
    public async Task Clear_EmptiesTheState_AndWritesGoOnFromThere()
    {
        var grain = NewGrain();
        var state = await ReadAsync(0, grain);
        state.State!["x"] = "1";
        await Storage(0).WriteStateAsync(StateName, grain, state);

        await Storage(0).ClearStateAsync(StateName, grain, state);

        Assert.Empty(state.State!);
        var read = await ReadAsync(1, grain);
        Assert.Empty(read.State!);
        Assert.Equal(state.ETag, read.ETag);
        read.State!["x"] = "2";
        await Storage(1).WriteStateAsync(StateName, grain, read);
        Assert.Equal("2", (await ReadAsync(0, grain)).State!["x"]);
    }

    [Fact]
    public async Task Clear_WithAStaleETag_IsRefused_AndTheStoredStateStays()
    {
        var grain = NewGrain();
        var state = await ReadAsync(0, grain);
        state.State!["x"] = "1";
        await Storage(0).WriteStateAsync(StateName, grain, state);
        var stale = await ReadAsync(1, grain);
        state.State!["x"] = "2";
        await Storage(0).WriteStateAsync(StateName, grain, state);

        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage(1).ClearStateAsync(StateName, grain, stale));

        Assert.Equal("2", (await ReadAsync(1, grain)).State!["x"]);
    }

    [Fact]
    public async Task States_OfOtherNamesAndGrains_AreApart()
    {
        var grain = NewGrain();
        var other = NewGrain();
        var state = await ReadAsync(0, grain);
        state.State!["x"] = "1";
        await Storage(0).WriteStateAsync(StateName, grain, state);

        Assert.Empty((await ReadAsync(0, other)).State!);
        var otherName = Fresh();
        await Storage(0).ReadStateAsync("profile", grain, otherName);
        Assert.Empty(otherName.State!);
        Assert.Null(otherName.ETag);
    }
}
