using Messenger.Gateway.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.Configuration.AddCommandLine(args, GatewayExtensions.Switches);
builder.AddStandaloneSilo();
builder.AddMessengerGateway();

var app = builder.Build();
app.MapMessengerGateway();
app.Run();

/// <summary>The entry point, visible to tests.</summary>
public partial class Program;
