using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Messenger.Gateway.Hosting;

/// <summary>
/// What the OpenAPI document says beyond what the endpoints declare: the API's title, the bearer token
/// scheme, and which operations need it (every one but those that allow anonymous callers).
/// </summary>
public static class OpenApiDescription
{
    public const string BearerScheme = "bearer";

    public static OpenApiOptions Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Messenger.Orleans";
            document.Info.Description = "REST API of the gateway. The WebSocket (/v1/ws) and the frames of both real-time transports are described in docs/PROTOCOL.md.";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "A device token from POST /v1/sessions, as 'Authorization: Bearer <token>'.",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
            {
                operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] }];
            }
            return Task.CompletedTask;
        });
        return options;
    }
}
