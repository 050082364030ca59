using Messenger.Gateway.Hosting;

// Settings (appsettings.json) come from beside the binary, wherever it is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Configuration.AddCommandLine(args, GatewayExtensions.Switches);
builder.AddGrainHost();
builder.AddMessengerGateway();

var app = builder.Build();
app.MapMessengerGateway();
app.Run();

/// <summary>The entry point, visible to tests.</summary>
public partial class Program;
