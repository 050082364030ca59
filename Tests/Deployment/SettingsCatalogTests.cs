using Messenger.Tests.Grains;

namespace Messenger.Tests.Deployment;

/// <summary>
/// The catalog loads the gateway's and the silo's assemblies into this test process; Orleans, starting a
/// cluster here, reads every loaded assembly's attributes. Both must keep working whichever runs first.
/// </summary>
public sealed class SettingsCatalogTests
{
    [Fact]
    public async Task LoadingTheCatalog_LeavesATestClusterInTheSameProcessWorking()
    {
        Assert.Contains("Gateway", SettingsCatalog.Sections.Keys);
        Assert.Contains("Dashboard", SettingsCatalog.Sections.Keys);
        var fixture = new SqliteClusterFixture(1, new Dictionary<string, string?>());
        await fixture.InitializeAsync();
        try
        {
            Assert.NotNull(await fixture.NewUserAsync());
        }
        finally
        {
            await fixture.DisposeAsync();
        }
    }
}
