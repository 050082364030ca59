using Messenger.Grains.Support;
using OpenTelemetry.Metrics;
using Messenger.Gateway.Auth;
using Messenger.Gateway.Endpoints;
using Messenger.Gateway.Protocol;
using Messenger.Gateway.Sessions;
using Messenger.Gateway.Transports;
using Messenger.Grains;
using Messenger.Grains.Delivery;
using Messenger.Grains.Hosting;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Messenger.Gateway.Hosting;

/// <summary>Wires the gateway: options, auth, JSON, errors, sessions, endpoints.</summary>
public static class GatewayExtensions
{
    /// <summary>Command-line switches beside ASP.NET Core's own (<c>--urls</c>).</summary>
    public static readonly Dictionary<string, string> Switches = new()
    {
        ["--data"] = $"{StorageOptions.SectionName}:{nameof(StorageOptions.DataDirectory)}",
    };

    public static WebApplicationBuilder AddMessengerGateway(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<GatewayOptions>(builder.Configuration, GatewayOptions.SectionName, o => o.Validate());
        services.AddValidatedOptions<AuthOptions>(builder.Configuration, AuthOptions.SectionName, o => o.Validate());

        var auth = builder.Configuration.GetSection(AuthOptions.SectionName).Get<AuthOptions>() ?? new AuthOptions();
        auth.Validate();
        var dataDirectory = StorageOptions.From(builder.Configuration).DataDirectory;
        var cluster = MessengerClusterOptions.From(builder.Configuration);
        var tokens = new TokenService(auth, dataDirectory, mayCreateKeyFile: !cluster.IsClient);
        services.AddSingleton(tokens);
        services.AddCredentialLimits(auth);

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(o =>
        {
            o.MapInboundClaims = false;
            o.TokenValidationParameters = tokens.ValidationParameters;
            o.Events = new JwtBearerEvents
            {
                // A good signature is not enough: the device must still be logged in (checked against this
                // gateway's copy of the user's device grants, which a logout updates before it answers).
                OnTokenValidated = async ctx =>
                {
                    var caller = ctx.Principal!;
                    var grants = ctx.HttpContext.RequestServices.GetRequiredService<DeviceGrantCache>();
                    if (await grants.CheckAsync(caller.UserId(), caller.DeviceId(), caller.Generation()) is { } refusal)
                    {
                        ctx.Fail(MessengerException.TokenRefused(refusal));
                    }
                },
                OnChallenge = async ctx =>
                {
                    ctx.HandleResponse();
                    var (code, message) = ctx.AuthenticateFailure switch
                    {
                        SecurityTokenExpiredException => (ErrorCode.TokenExpired, "the token has expired; log in again."),
                        MessengerException { Code: ErrorCode.LoggedOut or ErrorCode.Unauthorized } refused => (refused.Code, refused.Message),
                        _ => (ErrorCode.Unauthorized, "a valid bearer token is required."),
                    };
                    await ErrorMapping.WriteProblemAsync(ctx.HttpContext, code, message);
                },
            };
        });
        services.AddAuthorization();

        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.DefaultIgnoreCondition = WireJson.Context.Options.DefaultIgnoreCondition;
            o.SerializerOptions.Encoder = WireJson.Context.Options.Encoder;
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, WireStrings.Resolver);
        });
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx => ErrorMapping.AddCode(ctx.ProblemDetails));
        services.AddExceptionHandler<MessengerExceptionHandler>();
        builder.WebHost.ConfigureKestrel((ctx, k) =>
        {
            k.Limits.MaxRequestBodySize = ctx.Configuration.GetSection(GatewayOptions.SectionName).Get<GatewayOptions>()?.MaxBodyBytes ?? 64 * 1024;
            k.Limits.MaxRequestLineSize = GatewayOptions.MaxRequestLineBytes;
        });

        services.AddOpenApi(o => OpenApiDescription.Configure(o));
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMessengerMetrics()
            .AddPrometheusExporter());
        services.AddMemoryTrimming(builder.Configuration);
        services.AddSingleton<GrainReferences>();
        services.AddSingleton<PresenceSubscriptions>();
        services.AddSingleton<ConnectionRegistry>();
        services.TryAddSingleton<LocalGateways>(); // a silo in this process (standalone) pushes to the registry through it
        services.AddSingleton<GatewayNode>();
        services.AddSingleton<DeviceGrantCache>();
        services.AddSingleton<WebSocketHandshake>();
        services.AddHostedService(sp => sp.GetRequiredService<GatewayNode>());
        services.AddSingleton<PollSessions>();
        services.AddHostedService(sp => sp.GetRequiredService<PollSessions>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddHostedService<GatewayShutdown>();
        services.AddOptions<HostOptions>().Configure<IOptions<GatewayOptions>>((host, gateway) => host.ShutdownTimeout = gateway.Value.HostShutdownTimeout);
        return builder;
    }

    public static WebApplication MapMessengerGateway(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        app.Services.GetRequiredService<DeviceGrantCache>(); // now, so that it hears every change pushed from the start
        // Ping every interval; a client that answers no ping within the timeout is dropped.
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = options.KeepAliveInterval, KeepAliveTimeout = options.KeepAliveTimeout });
        // /v1/ws is answered here, before the middlewares below, which would stay suspended for the socket's life.
        app.Use(app.Services.GetRequiredService<WebSocketHandshake>().Middleware);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        // The web client (wwwroot, built from Client.TypeScript/web): index.html at /, then its scripts and styles.
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();

        app.MapOpenApi();
        // The frames of the real-time transports, which OpenAPI cannot describe.
        app.MapGet("/openapi/frames.json", () => Results.Text(FrameSchemas.Json, "application/schema+json")).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/healthz", () => TypedResults.Ok(new HealthReport("ok"))).AllowAnonymous()
            .WithTags("Operations").WithName("Health").WithSummary("200 while the process runs");
        app.MapPrometheusScrapingEndpoint(); // GET /metrics, Prometheus text format
        // Ready: requests that need the grains can be served (a client-mode gateway has its cluster), and it is not shutting down.
        app.MapGet("/readyz", (ClusterConnection cluster, GatewayNode node) => cluster.IsConnected && !node.IsShuttingDown
            ? Results.Ok(new HealthReport("ready"))
            : Results.Json(new HealthReport("unavailable"), WireJson.Context.HealthReport, statusCode: StatusCodes.Status503ServiceUnavailable)).AllowAnonymous()
            .WithTags("Operations").WithName("Ready").WithSummary("200 when requests can be served, 503 otherwise")
            .Produces<HealthReport>().Produces<HealthReport>(StatusCodes.Status503ServiceUnavailable);
        // Every endpoint can answer these (400 bad input, 401 no valid token, 413, 500, 503 unavailable).
        var v1 = app.MapGroup("/v1").RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status500InternalServerError)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        v1.MapAccountEndpoints();
        v1.MapDeviceEndpoints();
        v1.MapPushEndpoints();
        v1.MapConversationEndpoints();
        v1.MapLongPoll();
        return app;
    }
}
