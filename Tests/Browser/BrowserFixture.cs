using Messenger.Testing;
using Messenger.Tests.Support;
using Microsoft.Playwright;

namespace Messenger.Tests.Browser;

/// <summary>
/// The real gateway process serving the web client, and Chromium from the system (Debian's, installed by
/// scripts/install-test-deps.sh; MESSENGER_CHROMIUM names another) driven by Playwright. Presence settles
/// fast so that the tests need not wait seconds for it.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright _playwright = null!;

    public ServerProcess Server { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public Uri Url => Server.BaseAddress;

    /// <summary>Where screenshots go: Tests/TestResults/browser (kept with the test results).</summary>
    public static string Screenshots { get; } = Path.Combine(Repository.Root, "Tests", "TestResults", "browser");

    public async Task InitializeAsync()
    {
        Server = await ServerProcess.StartAsync(null,
            "--Presence:OnlineSettle=00:00:00.200", "--Presence:OfflineGrace=00:00:00.500", "--Gateway:PollHold=00:00:05");
        var chromium = Environment.GetEnvironmentVariable("MESSENGER_CHROMIUM") ?? "/usr/bin/chromium";
        if (!File.Exists(chromium))
        {
            throw new InvalidOperationException($"{chromium} is missing: run scripts/install-test-deps.sh (it installs Debian's chromium).");
        }
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            // As root (CI containers) Chromium refuses to start with its sandbox.
            ChromiumSandbox = false,
        });
        Directory.CreateDirectory(Screenshots);
        Assertions.SetDefaultExpectTimeout(20_000);
    }

    /// <summary>A fresh browser profile (its own cookies and storage), with a viewport like a laptop's (or a phone's).</summary>
    public Task<IBrowserContext> NewContextAsync(Uri? baseUrl = null, bool phone = false) => Browser.NewContextAsync(new BrowserNewContextOptions
    {
        BaseURL = (baseUrl ?? Url).ToString(),
        ViewportSize = phone ? new ViewportSize { Width = 390, Height = 844 } : new ViewportSize { Width = 1100, Height = 720 },
        IsMobile = phone,
        HasTouch = phone,
    });

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, $"{name}.png"), FullPage = true });

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        _playwright?.Dispose();
        if (Server is not null) await Server.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "web client in a browser";
}
