using System.Text.RegularExpressions;
using Messenger.Client;
using Messenger.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Messenger.Tests.Browser;

/// <summary>
/// The web client served at / by the real gateway, in Chromium: two people chat both ways, one goes
/// offline (network emulation) and catches up in order, typing and presence show on the other side,
/// tabs of one person stay identical, a browser whose WebSockets are blocked chats over long-poll, a group
/// shows its title and its membership changes in words, a group is made and managed from the page and every
/// member sees each change at the same place, my messages show how far they got (a group's who-read list
/// too) on every device of mine, a mute shows on every device, and server errors reach the person in words.
/// Screenshots go to Tests/TestResults/browser.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class WebClientTests(BrowserFixture fixture)
{
    private const string Password = "correct-horse-battery";

    [Fact]
    public async Task TwoPeopleChat_OneGoesOfflineAndCatchesUpInOrder_TypingAndPresenceShowOnTheOtherSide()
    {
        await using var aliceContext = await fixture.NewContextAsync();
        await using var bobContext = await fixture.NewContextAsync();
        var alice = await WebPage.OpenAsync(aliceContext);
        var bob = await WebPage.OpenAsync(bobContext);
        var (aliceName, bobName) = (WebPage.NewUsername("alice"), WebPage.NewUsername("bob"));
        await alice.RegisterAsync(aliceName, Password);
        await bob.RegisterAsync(bobName, Password);

        await alice.StartChatAsync(bobName);
        await alice.SendAsync("Hi Bob!");
        await Expect(alice.Messages).ToHaveTextAsync(["Hi Bob!"]);
        // Bob's list shows the new conversation, unread, with its last message.
        await Expect(bob.Conversation(aliceName)).ToContainTextAsync("Hi Bob!");
        await Expect(bob.Conversation(aliceName).Locator(".badge")).ToHaveTextAsync("1");
        await BrowserFixture.ScreenshotAsync(bob.Page, "1-bob-unread");
        await bob.OpenChatAsync(aliceName);
        await Expect(bob.Messages).ToHaveTextAsync(["Hi Bob!"]);
        await Expect(bob.Conversation(aliceName).Locator(".badge")).ToHaveCountAsync(0);

        // Presence both ways, typing from Bob to Alice.
        await Expect(alice.Presence).ToHaveTextAsync("online");
        await Expect(bob.Presence).ToHaveTextAsync("online");
        await bob.Composer.PressSequentiallyAsync("Hey");
        await Expect(alice.Typing).ToHaveTextAsync($"{bobName} is typing…");
        await BrowserFixture.ScreenshotAsync(alice.Page, "2-alice-sees-typing");
        await bob.Composer.PressAsync("Enter");
        await Expect(alice.Messages).ToHaveTextAsync(["Hi Bob!", "Hey"]);
        await Expect(alice.Typing).ToHaveTextAsync("");

        // Bob loses the network; Alice sees him go offline and keeps writing.
        await bobContext.SetOfflineAsync(true);
        await Expect(bob.Status).ToHaveTextAsync("Offline — reconnecting…");
        await Expect(alice.Presence).ToContainTextAsync("last seen");
        string[] whileAway = ["one", "two", "three", "four", "five"];
        foreach (var text in whileAway) await alice.SendAsync(text);
        string[] all = ["Hi Bob!", "Hey", .. whileAway];
        await Expect(alice.Messages).ToHaveTextAsync(all);
        await Expect(alice.Page.Locator("#messages li.pending")).ToHaveCountAsync(0);
        await Expect(bob.Messages).ToHaveTextAsync(["Hi Bob!", "Hey"]);
        await BrowserFixture.ScreenshotAsync(bob.Page, "3-bob-offline");

        // Back online: everything, in order, nothing twice.
        await bobContext.SetOfflineAsync(false);
        await Expect(bob.Messages).ToHaveTextAsync(all);
        await Expect(bob.Status).ToBeHiddenAsync();
        await Expect(alice.Presence).ToHaveTextAsync("online");
        await BrowserFixture.ScreenshotAsync(bob.Page, "4-bob-caught-up");
        var seqs = await bob.Page.Locator("#messages li").EvaluateAllAsync<int[]>("items => items.map(i => Number(i.dataset.seq))");
        Assert.Equal(Enumerable.Range(1, all.Length), seqs);
    }

    [Fact]
    public async Task TabsOfOnePerson_StayIdentical_AndAReloadedTabShowsTheSameHistory()
    {
        await using var aliceContext = await fixture.NewContextAsync();
        await using var bobContext = await fixture.NewContextAsync();
        var (aliceName, bobName) = (WebPage.NewUsername("alice"), WebPage.NewUsername("bob"));
        var alice = await WebPage.OpenAsync(aliceContext);
        await alice.RegisterAsync(aliceName, Password);
        var bob = await WebPage.OpenAsync(bobContext);
        await bob.RegisterAsync(bobName, Password);
        await bob.StartChatAsync(aliceName);
        // A second tab of Alice's browser: same session, same device.
        var aliceTab2 = await WebPage.OpenAsync(aliceContext);
        await Expect(aliceTab2.Page.Locator("#me-name")).ToHaveTextAsync(aliceName);

        for (var i = 1; i <= 3; i++) await bob.SendAsync($"message {i}");
        await Expect(bob.Messages).ToHaveTextAsync(["message 1", "message 2", "message 3"]);
        foreach (var tab in new[] { alice, aliceTab2 })
        {
            await Expect(tab.Conversation(bobName).Locator(".badge")).ToHaveTextAsync("3");
        }
        // Reading in one tab clears the unread count in the other (the read mark is in the user's log).
        await aliceTab2.Page.BringToFrontAsync();
        await aliceTab2.OpenChatAsync(bobName);
        await Expect(aliceTab2.Messages).ToHaveTextAsync(["message 1", "message 2", "message 3"]);
        await Expect(alice.Conversation(bobName).Locator(".badge")).ToHaveCountAsync(0);
        await aliceTab2.SendAsync("reply from tab 2");
        await alice.Page.BringToFrontAsync();
        await alice.OpenChatAsync(bobName);
        string[] expected = ["message 1", "message 2", "message 3", "reply from tab 2"];
        await Expect(alice.Messages).ToHaveTextAsync(expected);
        await Expect(aliceTab2.Messages).ToHaveTextAsync(expected);
        await Expect(bob.Messages).ToHaveTextAsync(expected);

        await alice.Page.ReloadAsync();
        await Expect(alice.Messages).ToHaveTextAsync(expected);
        await BrowserFixture.ScreenshotAsync(alice.Page, "5-alice-after-reload");
    }

    [Fact]
    public async Task ABrowserWhoseWebSocketsAreBlocked_ChatsOverLongPollWithAWebSocketClient()
    {
        await using var proxy = new NoWebSocketProxy(fixture.Url);
        await using var carolContext = await fixture.NewContextAsync(proxy.Address);
        await using var daveContext = await fixture.NewContextAsync();
        var (carolName, daveName) = (WebPage.NewUsername("carol"), WebPage.NewUsername("dave"));
        var carol = await WebPage.OpenAsync(carolContext);
        await carol.RegisterAsync(carolName, Password);
        var dave = await WebPage.OpenAsync(daveContext);
        await dave.RegisterAsync(daveName, Password);
        await Expect(carol.Status).ToHaveTextAsync("Connected (long-poll)");
        Assert.True(proxy.RefusedUpgrades > 0, "the proxy refused no WebSocket handshake");

        await carol.StartChatAsync(daveName);
        await carol.SendAsync("from long-poll");
        await dave.OpenChatAsync(carolName);
        await dave.SendAsync("from the socket");
        await Expect(carol.Messages).ToHaveTextAsync(["from long-poll", "from the socket"]);
        await Expect(dave.Messages).ToHaveTextAsync(["from long-poll", "from the socket"]);
        await dave.Composer.PressSequentiallyAsync("typing");
        await Expect(carol.Typing).ToHaveTextAsync($"{daveName} is typing…");
        await Expect(carol.Presence).ToHaveTextAsync("online");
        await BrowserFixture.ScreenshotAsync(carol.Page, "6-carol-long-poll");
    }

    [Fact]
    public async Task LongHistory_ScrollsBackPageByPage_InOrder()
    {
        var alice = await Chat.NewUserAsync(fixture.Url);
        var bob = await Chat.NewUserAsync(fixture.Url);
        var conversation = await Chat.OpenDirectAsync(fixture.Url, alice, bob);
        using var http = Chat.Http(fixture.Url, alice.Sessions[0]);
        for (var i = 1; i <= 120; i++) await http.SendAsync(conversation, $"h{i}", $"history {i}");

        await using var context = await fixture.NewContextAsync();
        var page = await WebPage.OpenAsync(context);
        await page.LogInAsync(bob.User.Username, bob.Password);
        await Expect(page.Conversation(alice.User.Username).Locator(".badge")).ToHaveTextAsync("120");
        await page.OpenChatAsync(alice.User.Username);
        string[] Texts(int from) => [.. Enumerable.Range(from, 121 - from).Select(i => $"history {i}")];
        await Expect(page.Messages).ToHaveTextAsync(Texts(71)); // the newest page: 50
        // Older pages come on request, one page per request, each keeping the history contiguous and in order
        // and what was on screen in place. Two ways to ask: the button, and scrolling to the top. They are driven
        // one at a time here: a pointer click scrolls the button into view first, which is itself a request, so
        // it would race the click (the button can be gone, or covered, by the time the click lands).
        var earlier = page.Page.GetByRole(AriaRole.Button, new() { Name = "Load earlier messages" });
        await Expect(earlier).ToBeVisibleAsync();
        await earlier.DispatchEventAsync("click"); // the button's own click, without scrolling to it
        await Expect(page.Messages).ToHaveTextAsync(Texts(21));
        await Expect(page.Messages.Last).ToBeInViewportAsync(); // the newest stayed on screen
        await page.Page.Locator("#message-scroller").EvaluateAsync("scroller => { scroller.scrollTop = 0; }");
        await Expect(page.Messages).ToHaveTextAsync(Texts(1));
        await Expect(earlier).ToBeHiddenAsync(); // the first message is loaded: nothing older
        await Expect(page.Conversation(alice.User.Username).Locator(".badge")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task KeyboardAlone_LogsIn_OpensAChat_AndSends()
    {
        var alice = await Chat.NewUserAsync(fixture.Url);
        var bob = await Chat.NewUserAsync(fixture.Url);
        await using var context = await fixture.NewContextAsync();
        var page = await WebPage.OpenAsync(context);
        var keyboard = page.Page.Keyboard;
        await Expect(page.Page.GetByLabel("Username", new() { Exact = true })).ToBeFocusedAsync();
        await keyboard.TypeAsync(alice.User.Username);
        await keyboard.PressAsync("Tab");
        await keyboard.TypeAsync(alice.Password);
        await keyboard.PressAsync("Enter");
        await Expect(page.Page.Locator("#me-name")).ToHaveTextAsync(alice.User.Username);
        // Account, then the "Start a chat with" box.
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Account" }).FocusAsync();
        await keyboard.PressAsync("Tab");
        await Expect(page.Page.GetByLabel("Start a chat with")).ToBeFocusedAsync();
        await keyboard.TypeAsync(bob.User.Username);
        await keyboard.PressAsync("Enter");
        await Expect(page.Page.Locator("#chat-title")).ToHaveTextAsync(bob.User.Username);
        await Expect(page.Composer).ToBeFocusedAsync();
        await keyboard.TypeAsync("typed, not clicked");
        await keyboard.PressAsync("Enter");
        await Expect(page.Messages).ToHaveTextAsync(["typed, not clicked"]);
        // The conversation in the list is a button a keyboard reaches and presses.
        await page.Conversation(bob.User.Username).FocusAsync();
        await keyboard.PressAsync("Enter");
        await Expect(page.Conversation(bob.User.Username)).ToHaveAttributeAsync("aria-current", "true");
    }

    [Fact]
    public async Task DevicesAreListed_OneIsLoggedOutFromAnother_AndADeletedAccountShowsAsDeletedToTheOtherMember()
    {
        var bob = await Chat.NewUserAsync(fixture.Url);
        await using var laptopContext = await fixture.NewContextAsync();
        await using var phoneContext = await fixture.NewContextAsync();
        await using var bobContext = await fixture.NewContextAsync();
        var aliceName = WebPage.NewUsername("alice");
        var laptop = await WebPage.OpenAsync(laptopContext);
        await laptop.RegisterAsync(aliceName, Password);
        var phone = await WebPage.OpenAsync(phoneContext);
        await phone.LogInAsync(aliceName, Password);
        await Expect(phone.Page.Locator("#me-name")).ToHaveTextAsync(aliceName);
        await laptop.StartChatAsync(bob.User.Username);
        await laptop.SendAsync("before I go");
        var bobPage = await WebPage.OpenAsync(bobContext);
        await bobPage.LogInAsync(bob.User.Username, bob.Password);
        await bobPage.OpenChatAsync(aliceName);
        await Expect(bobPage.Messages).ToHaveTextAsync(["before I go"]);

        // The laptop lists both browsers and logs the other one out: that one is back at the login form.
        await laptop.Page.GetByRole(AriaRole.Button, new() { Name = "Account" }).ClickAsync();
        var devices = laptop.Page.GetByRole(AriaRole.List, new() { Name = "Logged-in devices" }).Locator("li");
        await Expect(devices).ToHaveCountAsync(2);
        await Expect(devices.Filter(new() { HasText = "this browser" })).ToHaveCountAsync(1);
        await Expect(devices.Filter(new() { HasText = "connected" })).ToHaveCountAsync(1);
        await BrowserFixture.ScreenshotAsync(laptop.Page, "8-devices");
        await laptop.Page.GetByRole(AriaRole.Button, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Log out .+ on ") }).ClickAsync();
        await Expect(phone.Page.GetByRole(AriaRole.Button, new() { Name = "Log in" })).ToBeVisibleAsync();
        await Expect(phone.Alert).ToContainTextAsync("This browser was logged out");
        await Expect(devices).ToHaveCountAsync(1);

        // A wrong password deletes nothing; the right one ends the session.
        await laptop.Page.GetByLabel("Confirm with your password").FillAsync("not-the-password");
        await laptop.Page.GetByRole(AriaRole.Button, new() { Name = "Delete my account" }).ClickAsync();
        await Expect(laptop.Alert).ToHaveTextAsync("Your account was not deleted: the password is wrong.");
        await laptop.Page.GetByLabel("Confirm with your password").FillAsync(Password);
        await laptop.Page.GetByRole(AriaRole.Button, new() { Name = "Delete my account" }).ClickAsync();
        await Expect(laptop.Alert).ToHaveTextAsync("Your account has been deleted.");
        await Expect(laptop.Page.GetByRole(AriaRole.Button, new() { Name = "Log in" })).ToBeVisibleAsync();

        // Bob keeps the history, from a "deleted user", and is told in words that it takes no more messages.
        await bobPage.Page.ReloadAsync();
        await bobPage.OpenChatAsync("deleted user");
        await Expect(bobPage.Messages).ToHaveTextAsync(["before I go"]);
        await bobPage.SendAsync("are you there?");
        await Expect(bobPage.Alert).ToHaveTextAsync("Your message was not sent: they deleted their account, so the conversation takes no more messages.");
        await BrowserFixture.ScreenshotAsync(bobPage.Page, "9-deleted-user");
    }

    [Fact]
    public async Task OnAPhone_TheListAndTheChatTakeTheWholeScreenInTurn()
    {
        var alice = await Chat.NewUserAsync(fixture.Url);
        var bob = await Chat.NewUserAsync(fixture.Url);
        var conversation = await Chat.OpenDirectAsync(fixture.Url, alice, bob);
        using var http = Chat.Http(fixture.Url, alice.Sessions[0]);
        await http.SendAsync(conversation, "p1", "seen on a phone");
        await using var context = await fixture.NewContextAsync(phone: true);
        var page = await WebPage.OpenAsync(context);
        await page.LogInAsync(bob.User.Username, bob.Password);
        var list = page.Page.GetByRole(AriaRole.List, new() { Name = "Conversation list" });
        await Expect(list).ToBeVisibleAsync();
        await Expect(page.Page.Locator("#chat")).ToBeHiddenAsync();
        await BrowserFixture.ScreenshotAsync(page.Page, "10-phone-list");
        await page.OpenChatAsync(alice.User.Username);
        await Expect(page.Messages).ToHaveTextAsync(["seen on a phone"]);
        await Expect(list).ToBeHiddenAsync();
        await BrowserFixture.ScreenshotAsync(page.Page, "11-phone-chat");
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Back to conversations" }).ClickAsync();
        await Expect(list).ToBeVisibleAsync();
        await Expect(page.Page.Locator("#chat")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task AGroup_ShowsItsTitle_ItsMembershipChangesInWords_AndThatThePersonWasRemoved()
    {
        await using var context = await fixture.NewContextAsync();
        var bob = await WebPage.OpenAsync(context);
        var (aliceName, bobName) = (WebPage.NewUsername("alice"), WebPage.NewUsername("bob"));
        await bob.RegisterAsync(bobName, Password);
        using var anonymous = new MessengerHttpClient(fixture.Url);
        await anonymous.RegisterAsync(aliceName, Password);
        using var alice = new MessengerHttpClient(fixture.Url, (await anonymous.LoginAsync(aliceName, Password)).Token);
        var bobId = (await alice.FindUserAsync(bobName)).UserId;

        // The group arrives live: its title from the created event, which the list shows in words.
        var group = (await alice.CreateGroupAsync("Weekend trip", [bobId])).Conversation.ConversationId;
        await Expect(bob.Conversation("Weekend trip")).ToContainTextAsync($"{aliceName} created the group “Weekend trip”");
        await bob.OpenChatAsync("Weekend trip");
        await Expect(bob.Presence).ToHaveTextAsync("group");
        await alice.SendAsync(group, "g-1", "Who brings the tent?");
        await Expect(bob.Messages).ToHaveTextAsync(["Who brings the tent?"]);
        await Expect(bob.Page.Locator("#messages li.theirs .meta")).ToContainTextAsync(aliceName);
        await bob.SendAsync("I do");
        await Expect(bob.Messages).ToHaveTextAsync(["Who brings the tent?", "I do"]);
        // Acked, not just shown while sending: otherwise the rename below may be committed before it, and be not the last.
        await Expect(bob.Page.Locator("#messages li.pending")).ToHaveCountAsync(0);

        // A rename changes the title everywhere; a reload takes it from the conversation list.
        await alice.RenameGroupAsync(group, "Long weekend");
        await Expect(bob.Page.Locator("#chat-title")).ToHaveTextAsync("Long weekend");
        await bob.Page.ReloadAsync();
        await Expect(bob.Conversation("Long weekend")).ToContainTextAsync($"{aliceName} renamed the group to “Long weekend”");
        await Expect(bob.Page.Locator("#chat-title")).ToHaveTextAsync("Long weekend");
        await Expect(bob.Page.Locator("#messages li.event")).ToHaveTextAsync([
            new System.Text.RegularExpressions.Regex($"^{aliceName} created the group “Weekend trip”"),
            new System.Text.RegularExpressions.Regex($"^{aliceName} renamed the group to “Long weekend”"),
        ]);

        // Removed: the page says so, in the chat and its header.
        await alice.RemoveMemberAsync(group, bobId);
        await Expect(bob.Page.Locator("#messages li.event").Last).ToContainTextAsync($"{aliceName} removed you");
        await Expect(bob.Presence).ToHaveTextAsync("you are no longer in this group");
        await BrowserFixture.ScreenshotAsync(bob.Page, "8-group-removed");
    }

    [Fact]
    public async Task AGroupMadeOnThePage_IsManagedFromItsInfoPanel_AndEveryMemberSeesEachChangeInWordsAtTheSamePlace()
    {
        await using var aliceContext = await fixture.NewContextAsync();
        await using var bobContext = await fixture.NewContextAsync();
        await using var carolContext = await fixture.NewContextAsync();
        await using var daveContext = await fixture.NewContextAsync();
        var (aliceName, bobName, carolName) = (WebPage.NewUsername("alice"), WebPage.NewUsername("bob"), WebPage.NewUsername("carol"));
        var alice = await WebPage.OpenAsync(aliceContext);
        await alice.RegisterAsync(aliceName, Password);
        var bob = await WebPage.OpenAsync(bobContext);
        await bob.RegisterAsync(bobName, Password);
        var carol = await WebPage.OpenAsync(carolContext);
        await carol.RegisterAsync(carolName, Password);
        var daveUser = await Chat.NewUserAsync(fixture.Url); // logs in later: his history starts where he was added
        var daveName = daveUser.Username;

        // Alice makes the group, its members typed together; it opens for her and arrives for the others.
        await alice.CreateGroupAsync("Book club", $"{bobName}, {carolName}");
        await Expect(alice.ChatTitle).ToHaveTextAsync("Book club");
        await Expect(alice.Events).ToHaveTextAsync([Starts("You created the group “Book club”")]);
        foreach (var member in new[] { bob, carol })
        {
            await Expect(member.Conversation("Book club")).ToContainTextAsync($"{aliceName} created the group “Book club”");
            await member.OpenChatAsync("Book club");
        }
        await alice.SendAsync("Welcome, both");
        await Expect(bob.Messages).ToHaveTextAsync(["Welcome, both"]);

        // The panel lists the members with their roles; a member may only leave, an owner manages.
        await alice.OpenGroupInfoAsync();
        await Expect(alice.Member(aliceName).Locator(".role")).ToHaveTextAsync("owner");
        await Expect(alice.Member(bobName).Locator(".role")).ToHaveTextAsync("member");
        await Expect(alice.Member(carolName).Locator(".role")).ToHaveTextAsync("member");
        await bob.Button("Group info").FocusAsync(); // the keyboard opens and closes it too
        await bob.Page.Keyboard.PressAsync("Enter");
        await Expect(bob.GroupMembers).ToHaveCountAsync(3);
        await Expect(bob.Page.GetByRole(AriaRole.Heading, new() { Name = "Group info" })).ToBeFocusedAsync();
        await Expect(bob.Page.GetByLabel("Add members")).ToBeHiddenAsync();
        await Expect(bob.Page.GetByLabel("Rename the group")).ToBeHiddenAsync();
        await Expect(bob.Member(carolName).GetByRole(AriaRole.Button)).ToHaveCountAsync(0);
        await Expect(bob.Button("Leave group")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(alice.Page, "12-group-info-owner");

        // Alice adds Dave (Bob's open panel follows); adding Bob again is refused in words.
        await alice.Page.GetByLabel("Add members").FillAsync(daveName);
        await alice.Button("Add").ClickAsync();
        await Expect(alice.Member(daveName).Locator(".role")).ToHaveTextAsync("member");
        await Expect(bob.Member(daveName)).ToBeVisibleAsync();
        await alice.Page.GetByLabel("Add members").FillAsync(bobName);
        await alice.Button("Add").ClickAsync();
        await Expect(alice.Alert).ToHaveTextAsync($"Could not add {bobName}: they are in the group already.");

        // Alice removes Carol: Carol's page says so, and she can no longer write.
        await alice.Button($"Remove {carolName} from the group").ClickAsync();
        await Expect(alice.Member(carolName)).ToHaveCountAsync(0);
        await Expect(carol.Events.Last).ToContainTextAsync($"{aliceName} removed you");
        await Expect(carol.Presence).ToHaveTextAsync("you are no longer in this group");
        await Expect(carol.Composer).ToBeDisabledAsync();
        await Expect(carol.Button("Send")).ToBeDisabledAsync();
        await Expect(carol.Button("Group info")).ToBeHiddenAsync();
        await BrowserFixture.ScreenshotAsync(carol.Page, "13-group-carol-removed");

        // Alice makes Bob an admin: his panel gives him the admin's controls at once; he renames the group.
        await alice.Button($"Make {bobName} an admin").ClickAsync();
        await Expect(alice.Member(bobName).Locator(".role")).ToHaveTextAsync("admin");
        await Expect(bob.Member(bobName).Locator(".role")).ToHaveTextAsync("admin");
        await bob.Page.GetByLabel("Rename the group").FillAsync("Reading circle");
        await bob.Button("Rename").ClickAsync();
        foreach (var page in new[] { alice, bob }) await Expect(page.ChatTitle).ToHaveTextAsync("Reading circle");
        await bob.Page.Keyboard.PressAsync("Escape");
        await Expect(bob.Page.Locator("#group-panel")).ToBeHiddenAsync();
        await Expect(bob.Button("Group info")).ToBeFocusedAsync();

        // Dave sees the group from the event that added him on: nothing said before it.
        var dave = await WebPage.OpenAsync(daveContext);
        await dave.LogInAsync(daveName, daveUser.Password);
        await dave.OpenChatAsync("Reading circle");
        await Expect(dave.Events).ToHaveTextAsync([
            Starts($"{aliceName} added you"), Starts($"{aliceName} removed {carolName}"),
            Starts($"{aliceName} made {bobName} an admin"), Starts($"{bobName} renamed the group to “Reading circle”"),
        ]);
        await Expect(dave.Messages).ToHaveCountAsync(0);

        // Dave leaves (asked first); his page says so, the others' too, and Alice's panel no longer lists him.
        await dave.OpenGroupInfoAsync();
        await dave.Button("Leave group").ClickAsync();
        await Expect(dave.Page.Locator("#leave-question")).ToHaveTextAsync("Leave “Reading circle”? You will no longer get its messages.");
        await dave.Button("Leave").ClickAsync();
        await Expect(dave.Events.Last).ToContainTextAsync("You left");
        await Expect(dave.Composer).ToBeDisabledAsync();
        await Expect(alice.Member(daveName)).ToHaveCountAsync(0);

        // Every event at the same place on every member's page, each in words from that member's side.
        await Expect(alice.Entries).ToHaveTextAsync([
            Starts("You created the group “Book club”"), Starts("Welcome, both"), Starts($"You added {daveName}"),
            Starts($"You removed {carolName}"), Starts($"You made {bobName} an admin"),
            Starts($"{bobName} renamed the group to “Reading circle”"), Starts($"{daveName} left"),
        ]);
        await Expect(bob.Entries).ToHaveTextAsync([
            Starts($"{aliceName} created the group “Book club”"), Starts("Welcome, both"), Starts($"{aliceName} added {daveName}"),
            Starts($"{aliceName} removed {carolName}"), Starts($"{aliceName} made you an admin"),
            Starts("You renamed the group to “Reading circle”"), Starts($"{daveName} left"),
        ]);
        await Expect(carol.Entries).ToHaveTextAsync([
            Starts($"{aliceName} created the group “Book club”"), Starts("Welcome, both"), Starts($"{aliceName} added {daveName}"),
            Starts($"{aliceName} removed you"),
        ]);
        var seqs = await Task.WhenAll(new[] { alice, bob }.Select(p => p.Entries.EvaluateAllAsync<int[]>("items => items.map(i => Number(i.dataset.seq))")));
        Assert.Equal(Enumerable.Range(1, 7), seqs[0]);
        Assert.Equal(seqs[0], seqs[1]);
        await BrowserFixture.ScreenshotAsync(bob.Page, "14-group-history-bob");
    }

    [Fact]
    public async Task MyMessagesShowSentThenDeliveredThenRead_OnEveryDeviceOfMine_AlsoAfterTheLogHasMovedOn()
    {
        var aliceUser = await Chat.NewUserAsync(fixture.Url);
        var bobUser = await Chat.NewUserAsync(fixture.Url); // no device of Bob's is connected yet
        await using var laptopContext = await fixture.NewContextAsync();
        await using var phoneContext = await fixture.NewContextAsync();
        await using var bobContext = await fixture.NewContextAsync();
        var laptop = await WebPage.OpenAsync(laptopContext);
        await laptop.LogInAsync(aliceUser.Username, aliceUser.Password);
        var phone = await WebPage.OpenAsync(phoneContext);
        await phone.LogInAsync(aliceUser.Username, aliceUser.Password);

        await laptop.StartChatAsync(bobUser.Username);
        await laptop.SendAsync("are you there?");
        await laptop.SendAsync("hello?");
        await phone.OpenChatAsync(bobUser.Username);
        foreach (var page in new[] { laptop, phone }) await Expect(page.Receipts).ToHaveTextAsync(["Sent", "Sent"]);

        // Bob's page loads (the second message is not his log's first update: the page's read of the recent
        // log is what tells the server it has them); then he opens the chat.
        var bob = await WebPage.OpenAsync(bobContext);
        await bob.LogInAsync(bobUser.Username, bobUser.Password);
        await Expect(bob.Conversation(aliceUser.Username).Locator(".badge")).ToHaveTextAsync("2");
        foreach (var page in new[] { laptop, phone }) await Expect(page.Receipts).ToHaveTextAsync(["Delivered", "Delivered"]);
        await BrowserFixture.ScreenshotAsync(laptop.Page, "15-receipts-delivered");
        await bob.OpenChatAsync(aliceUser.Username);
        foreach (var page in new[] { laptop, phone }) await Expect(page.Receipts).ToHaveTextAsync(["Read", "Read"]);
        await Expect(laptop.Receipts.First).ToHaveAttributeAsync("data-state", "read");

        // A reload reads them from the recent log; once more than a sync page of updates came after the
        // messages, a new browser of Alice's asks the server for them instead.
        await phone.Page.ReloadAsync();
        await Expect(phone.Receipts).ToHaveTextAsync(["Read", "Read"]);
        var conversation = await Chat.OpenDirectAsync(fixture.Url, aliceUser, bobUser); // the same one (opening is idempotent)
        using var http = Chat.Http(fixture.Url, aliceUser.Sessions[0]);
        for (var i = 0; i < 260; i++)
        {
            await http.MuteAsync(conversation);
            await http.UnmuteAsync(conversation);
        }
        await using var tabletContext = await fixture.NewContextAsync();
        var tablet = await WebPage.OpenAsync(tabletContext);
        await tablet.LogInAsync(aliceUser.Username, aliceUser.Password);
        await tablet.OpenChatAsync(bobUser.Username);
        await Expect(tablet.Receipts).ToHaveTextAsync(["Read", "Read"]);
    }

    [Fact]
    public async Task InAGroup_MyMessagesCountWhoHasThemAndWhoReadThem_AndTheListNamesTheReaders()
    {
        var aliceUser = await Chat.NewUserAsync(fixture.Url);
        var bobUser = await Chat.NewUserAsync(fixture.Url);
        var carolUser = await Chat.NewUserAsync(fixture.Url);
        using (var http = Chat.Http(fixture.Url, aliceUser.Sessions[0])) await http.CreateGroupAsync("Receipts", [bobUser.Id, carolUser.Id]);
        await using var laptopContext = await fixture.NewContextAsync();
        await using var phoneContext = await fixture.NewContextAsync();
        await using var bobContext = await fixture.NewContextAsync();
        await using var carolContext = await fixture.NewContextAsync();
        var (bob, carol) = (await WebPage.OpenAsync(bobContext), await WebPage.OpenAsync(carolContext));
        await bob.LogInAsync(bobUser.Username, bobUser.Password);
        await carol.LogInAsync(carolUser.Username, carolUser.Password);
        await Expect(bob.Conversation("Receipts")).ToBeVisibleAsync();
        await Expect(carol.Conversation("Receipts")).ToBeVisibleAsync();
        var laptop = await WebPage.OpenAsync(laptopContext);
        await laptop.LogInAsync(aliceUser.Username, aliceUser.Password);
        await laptop.OpenChatAsync("Receipts");
        var phone = await WebPage.OpenAsync(phoneContext);
        await phone.LogInAsync(aliceUser.Username, aliceUser.Password);
        await phone.OpenChatAsync("Receipts");

        // Both pages of the others have it; nobody has the group open.
        await laptop.SendAsync("who reads this?");
        foreach (var page in new[] { laptop, phone }) await Expect(page.Receipts).ToHaveTextAsync(["Delivered to 2 · Read by 0 of 2"]);
        await bob.OpenChatAsync("Receipts");
        foreach (var page in new[] { laptop, phone }) await Expect(page.Receipts).ToHaveTextAsync(["Delivered to 2 · Read by 1 of 2"]);

        // The summary opens the list of who read it, which follows new readers while open.
        await laptop.Receipts.ClickAsync();
        await Expect(laptop.Receipts).ToHaveAttributeAsync("aria-expanded", "true");
        await Expect(laptop.WhoRead).ToHaveTextAsync([$"Read by {bobUser.Username}", $"Delivered to {carolUser.Username}, not read yet"]);
        await BrowserFixture.ScreenshotAsync(laptop.Page, "16-group-who-read");
        await carol.OpenChatAsync("Receipts");
        foreach (var page in new[] { laptop, phone }) await Expect(page.Receipts).ToHaveTextAsync(["Delivered to 2 · Read by 2 of 2"]);
        await Expect(laptop.WhoRead).ToHaveCountAsync(1);
        await Expect(laptop.WhoRead).ToContainTextAsync(bobUser.Username);
        await Expect(laptop.WhoRead).ToContainTextAsync(carolUser.Username);

        // From the keyboard on the other device: the summary is a button.
        await phone.Receipts.FocusAsync();
        await phone.Page.Keyboard.PressAsync("Enter");
        await Expect(phone.WhoRead).ToHaveCountAsync(1);
        await Expect(phone.Receipts).ToBeFocusedAsync();
    }

    [Fact]
    public async Task MutingAConversation_MarksItInTheList_OnEveryDeviceOfTheUser_UntilUnmuted()
    {
        var aliceUser = await Chat.NewUserAsync(fixture.Url);
        var bobUser = await Chat.NewUserAsync(fixture.Url);
        await using var laptopContext = await fixture.NewContextAsync();
        await using var phoneContext = await fixture.NewContextAsync();
        var laptop = await WebPage.OpenAsync(laptopContext);
        await laptop.LogInAsync(aliceUser.Username, aliceUser.Password);
        var phone = await WebPage.OpenAsync(phoneContext);
        await phone.LogInAsync(aliceUser.Username, aliceUser.Password);
        await laptop.StartChatAsync(bobUser.Username);
        await laptop.SendAsync("muting you, nothing personal");
        var onLaptop = laptop.Conversation(bobUser.Username).Locator(".muted-mark");
        var onPhone = phone.Conversation(bobUser.Username).Locator(".muted-mark");
        await Expect(phone.Conversation(bobUser.Username)).ToBeVisibleAsync();
        await Expect(onPhone).ToHaveCountAsync(0);

        // For 8 hours, from the laptop: both devices mark it.
        await laptop.Button("Mute").ClickAsync();
        await Expect(laptop.Button("Mute")).ToHaveAttributeAsync("aria-expanded", "true");
        await laptop.Button("Mute for 8 hours").ClickAsync();
        await Expect(onLaptop).ToHaveTextAsync("muted");
        await Expect(onPhone).ToHaveTextAsync("muted");
        await Expect(phone.Conversation(bobUser.Username)).ToHaveAttributeAsync("aria-label", new Regex(", muted"));
        await Expect(laptop.Page.Locator("#chat-muted")).ToContainTextAsync("Muted until");
        await BrowserFixture.ScreenshotAsync(laptop.Page, "17-muted");

        // Unmuted from the phone: gone on both.
        await phone.OpenChatAsync(bobUser.Username);
        await phone.Button("Unmute").ClickAsync();
        await Expect(onPhone).ToHaveCountAsync(0);
        await Expect(onLaptop).ToHaveCountAsync(0);
        await Expect(laptop.Button("Mute")).ToBeVisibleAsync();
        await Expect(laptop.Page.Locator("#chat-muted")).ToBeHiddenAsync();

        // Until unmuted, from the keyboard (Escape closes the menu); a reload takes it from the conversation list.
        await laptop.Button("Mute").FocusAsync();
        await laptop.Page.Keyboard.PressAsync("Enter");
        await Expect(laptop.Button("Mute for 8 hours")).ToBeFocusedAsync();
        await laptop.Page.Keyboard.PressAsync("Escape");
        await Expect(laptop.Button("Mute for 8 hours")).ToBeHiddenAsync();
        await Expect(laptop.Button("Mute")).ToBeFocusedAsync();
        await laptop.Page.Keyboard.PressAsync("Enter");
        await laptop.Page.Keyboard.PressAsync("Tab");
        await Expect(laptop.Button("Mute until I unmute")).ToBeFocusedAsync();
        await laptop.Page.Keyboard.PressAsync("Enter");
        await Expect(laptop.Page.Locator("#chat-muted")).ToHaveTextAsync("Muted until you unmute");
        await Expect(onPhone).ToHaveTextAsync("muted");
        await phone.Page.ReloadAsync();
        await Expect(onPhone).ToHaveTextAsync("muted");
        await Expect(phone.Page.Locator("#chat-muted")).ToHaveTextAsync("Muted until you unmute");
    }

    [Fact]
    public async Task ANewGroupWithAnUnknownUserOrNoName_IsRefusedInWords_AndNothingIsCreated()
    {
        var aliceUser = await Chat.NewUserAsync(fixture.Url);
        var bobUser = await Chat.NewUserAsync(fixture.Url);
        await using var context = await fixture.NewContextAsync();
        var page = await WebPage.OpenAsync(context);
        await page.LogInAsync(aliceUser.Username, aliceUser.Password);
        await Expect(page.Page.Locator("#me-name")).ToHaveTextAsync(aliceUser.Username);
        var list = page.Page.Locator("#conversation-list li");

        await page.CreateGroupAsync("Ghosts", $"{bobUser.Username} nobody-by-this-name");
        await Expect(page.Alert).ToHaveTextAsync("Could not add nobody-by-this-name to the group: there is no user with that name.");

        // One by one: Enter after a name shows it as chosen; a name of spaces only is refused by the server.
        var members = page.Page.GetByRole(AriaRole.Textbox, new() { Name = "Members", Exact = true });
        await members.FillAsync(bobUser.Username);
        await members.PressAsync("Enter");
        await Expect(page.Page.GetByRole(AriaRole.List, new() { Name = "People in the new group" })).ToHaveTextAsync(new Regex($"^{bobUser.Username}"));
        await Expect(members).ToHaveValueAsync("");
        await page.Page.GetByLabel("Group name", new() { Exact = true }).FillAsync("   ");
        await page.Button("Create group").ClickAsync();
        await Expect(page.Alert).ToHaveTextAsync("Could not create the group: title must be 1 to 128 characters (not only spaces).");
        await BrowserFixture.ScreenshotAsync(page.Page, "18-new-group-refused");
        await Expect(list).ToHaveCountAsync(0);
        using (var http = Chat.Http(fixture.Url, aliceUser.Sessions[0])) Assert.Empty(await http.ListConversationsAsync());

        // Corrected, it is made and opens.
        await page.Page.GetByLabel("Group name", new() { Exact = true }).FillAsync("Not ghosts");
        await page.Button("Create group").ClickAsync();
        await Expect(page.ChatTitle).ToHaveTextAsync("Not ghosts");
        await Expect(page.Events).ToHaveTextAsync([Starts("You created the group “Not ghosts”")]);
        await Expect(list).ToHaveCountAsync(1);
        await Expect(page.Page.Locator("#new-group")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task ServerErrors_ReachThePersonInWords()
    {
        await using var context = await fixture.NewContextAsync();
        var page = await WebPage.OpenAsync(context);
        var name = WebPage.NewUsername("erin");
        await page.LogInAsync(name, Password);
        await Expect(page.Alert).ToHaveTextAsync("Could not log in: the username or password is wrong.");
        await page.Page.GetByLabel("Username", new() { Exact = true }).FillAsync("x");
        await page.Page.GetByLabel("Password", new() { Exact = true }).FillAsync(Password);
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await Expect(page.Alert).ToContainTextAsync("Could not create the account: username must be 3 to 32 characters");
        await page.RegisterAsync(name, Password);
        await page.Page.GetByLabel("Start a chat with").FillAsync("nobody-by-this-name");
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Open", Exact = true }).ClickAsync();
        await Expect(page.Alert).ToHaveTextAsync("Could not open a chat with nobody-by-this-name: there is no user with that name.");
        await BrowserFixture.ScreenshotAsync(page.Page, "7-error-in-words");
    }

    /// <summary>Text that starts with <paramref name="text"/> (an entry's time and receipts follow it).</summary>
    private static Regex Starts(string text) => new($"^{Regex.Escape(text)}");
}
