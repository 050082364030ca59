using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Messenger.Tests.Browser;

/// <summary>The web client as a person uses it, through its labels and roles.</summary>
public sealed class WebPage(IPage page)
{
    private static int _users;

    public IPage Page { get; } = page;

    public static string NewUsername(string prefix) => $"{prefix}{Environment.ProcessId % 10000}x{Interlocked.Increment(ref _users)}x{Random.Shared.Next(1000)}";

    public static async Task<WebPage> OpenAsync(IBrowserContext context, string path = "/")
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync(path);
        return new WebPage(page);
    }

    public async Task RegisterAsync(string username, string password)
    {
        await Page.GetByLabel("Username", new() { Exact = true }).FillAsync(username);
        await Page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await Expect(Page.Locator("#me-name")).ToHaveTextAsync(username);
    }

    public async Task LogInAsync(string username, string password)
    {
        await Page.GetByLabel("Username", new() { Exact = true }).FillAsync(username);
        await Page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
    }

    public async Task StartChatAsync(string username)
    {
        await Page.GetByLabel("Start a chat with").FillAsync(username);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Open", Exact = true }).ClickAsync();
        await Expect(Page.Locator("#chat-title")).ToHaveTextAsync(username);
    }

    /// <summary>The conversation with <paramref name="username"/> in the list.</summary>
    public ILocator Conversation(string username) =>
        Page.Locator("#conversation-list li > button").Filter(new() { Has = Page.Locator(".name", new() { HasText = username }) });

    public async Task OpenChatAsync(string username)
    {
        await Conversation(username).ClickAsync();
        await Expect(Page.Locator("#chat-title")).ToHaveTextAsync(username);
    }

    public async Task SendAsync(string text)
    {
        await Composer.FillAsync(text);
        await Composer.PressAsync("Enter");
    }

    /// <summary>The message box of the open chat.</summary>
    public ILocator Composer => Page.GetByRole(AriaRole.Textbox, new() { Name = "Message", Exact = true });

    /// <summary>The texts of the open chat, in the order shown.</summary>
    public ILocator Messages => Page.Locator("#messages li .text");

    /// <summary>Makes a group from the sidebar's "New group" form: a name and the members' usernames as typed.</summary>
    public async Task CreateGroupAsync(string title, string members)
    {
        await Button("New group").ClickAsync();
        await Page.GetByLabel("Group name", new() { Exact = true }).FillAsync(title);
        await Page.GetByRole(AriaRole.Textbox, new() { Name = "Members", Exact = true }).FillAsync(members);
        await Button("Create group").ClickAsync();
    }

    /// <summary>Opens the open group's info panel and waits for its members.</summary>
    public async Task OpenGroupInfoAsync()
    {
        await Button("Group info").ClickAsync();
        await Expect(GroupMembers.First).ToBeVisibleAsync();
    }

    public ILocator Button(string name) => Page.GetByRole(AriaRole.Button, new() { Name = name, Exact = true });

    /// <summary>The members listed in the group info panel.</summary>
    public ILocator GroupMembers => Page.Locator("#group-members li");

    /// <summary>The group info panel's entry for <paramref name="username"/>.</summary>
    public ILocator Member(string username) => GroupMembers.Filter(new() { Has = Page.Locator(".who", new() { HasText = username }) });

    /// <summary>Every entry of the open chat, messages and events, in the order shown.</summary>
    public ILocator Entries => Page.Locator("#messages > li");

    /// <summary>The open chat's membership events, in words.</summary>
    public ILocator Events => Page.Locator("#messages li.event");

    /// <summary>The state shown under each of my messages of the open chat ("Read", or a group's counts).</summary>
    public ILocator Receipts => Page.Locator("#messages li.mine .receipt");

    /// <summary>The open who-read list of a group message.</summary>
    public ILocator WhoRead => Page.GetByRole(AriaRole.List, new() { Name = "Who read it" }).Locator("li");

    public ILocator ChatTitle => Page.Locator("#chat-title");
    public ILocator Typing => Page.Locator("#typing");
    public ILocator Presence => Page.Locator("#chat-presence");
    public ILocator Status => Page.Locator("#status");
    public ILocator Alert => Page.GetByRole(AriaRole.Alert);
}
