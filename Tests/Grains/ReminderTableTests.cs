using Microsoft.Extensions.DependencyInjection;

namespace Messenger.Tests.Grains;

/// <summary>
/// Durable reminders through the table the silos configure: Orleans' ADO.NET reminders provider over
/// our own migration, in SQLite standalone and in PostgreSQL in a cluster. The same behaviour from
/// both, with two silos sharing the table.
/// </summary>
public abstract class ReminderTableTests(ClusterFixture cluster)
{
    [Collection(SqliteCluster.Name)]
    public sealed class OnSqlite(SqliteClusterFixture cluster) : ReminderTableTests(cluster);

    [Collection(PostgresCluster.Name)]
    public sealed class OnPostgres(PostgresClusterFixture cluster) : ReminderTableTests(cluster);

    private static readonly DateTime Start = new(2026, 11, 29, 12, 0, 0, 123, DateTimeKind.Utc);

    private IReminderTable Table(int silo) => cluster.Cluster.Silos[silo].ServiceProvider.GetRequiredService<IReminderTable>();

    private static GrainId NewGrain() => GrainId.Create("user", "u" + Guid.NewGuid().ToString("N"));

    private static ReminderEntry Entry(GrainId grain, string name, TimeSpan period) =>
        new() { GrainId = grain, ReminderName = name, StartAt = Start, Period = period };

    [Fact]
    public async Task Upsert_ThenReadOnTheOtherSilo_GivesTheReminderAndItsETag()
    {
        var grain = NewGrain();

        var etag = await Table(0).UpsertRow(Entry(grain, "push-retry", TimeSpan.FromMinutes(5)));

        var read = await Table(1).ReadRow(grain, "push-retry");
        Assert.NotNull(read);
        Assert.Equal(grain, read.GrainId);
        Assert.Equal(Start, read.StartAt);
        Assert.Equal(TimeSpan.FromMinutes(5), read.Period);
        Assert.Equal(etag, read.ETag);
        Assert.Single((await Table(1).ReadRows(grain)).Reminders);
    }

    [Fact]
    public async Task Upsert_Again_ChangesTheReminderAndItsETag()
    {
        var grain = NewGrain();
        var first = await Table(0).UpsertRow(Entry(grain, "r", TimeSpan.FromMinutes(1)));

        var second = await Table(0).UpsertRow(Entry(grain, "r", TimeSpan.FromDays(40)));

        Assert.NotEqual(first, second);
        var read = Assert.Single((await Table(1).ReadRows(grain)).Reminders);
        Assert.Equal(TimeSpan.FromDays(40), read.Period);
        Assert.Equal(second, read.ETag);
    }

    [Fact]
    public async Task Remove_WithAStaleETag_IsRefused_WithTheCurrentOne_Removes()
    {
        var grain = NewGrain();
        var stale = await Table(0).UpsertRow(Entry(grain, "r", TimeSpan.FromMinutes(1)));
        var current = await Table(0).UpsertRow(Entry(grain, "r", TimeSpan.FromMinutes(2)));

        Assert.False(await Table(1).RemoveRow(grain, "r", stale!));
        Assert.NotNull(await Table(1).ReadRow(grain, "r"));
        Assert.True(await Table(1).RemoveRow(grain, "r", current!));
        Assert.Null(await Table(0).ReadRow(grain, "r"));
        Assert.Empty((await Table(0).ReadRows(grain)).Reminders);
    }

    [Fact]
    public async Task ReadRange_ReturnsTheRemindersWhoseGrainHashIsInIt_AlsoWhenTheRangeWraps()
    {
        var grain = NewGrain();
        await Table(0).UpsertRow(Entry(grain, "r", TimeSpan.FromMinutes(1)));
        var hash = grain.GetUniformHashCode();

        bool In(ReminderTableData data) => data.Reminders.Any(r => r.GrainId == grain);
        Assert.True(In(await Table(1).ReadRows(hash - 1, hash)));
        Assert.False(In(await Table(1).ReadRows(hash, hash + 1)));
        // A range that wraps past the top of the hash space: (hash + 1, hash] is everything but nothing.
        Assert.True(In(await Table(1).ReadRows(unchecked(hash + 1), hash)));
        Assert.False(In(await Table(1).ReadRows(hash, unchecked(hash - 1))));
    }
}
