using System.Reflection;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Messenger.Gateway.Protocol;
using Microsoft.OpenApi;

namespace Messenger.Gateway.Hosting;

/// <summary>
/// What the OpenAPI document says beyond what the endpoints declare: the API's title, the bearer token
/// scheme, which operations need it (every one but those that allow anonymous callers), and the exact
/// shape of what the server writes (<see cref="ServerWrites"/>).
/// </summary>
public static class OpenApiDescription
{
    public const string BearerScheme = "bearer";

    public static OpenApiOptions Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Messenger.Orleans";
            // The address a request came in on is not the API's: the same document is served by every
            // gateway and kept in docs/, and a client uses the base URL it was given.
            document.Servers = [];
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
            DescribeQueryNumbers(operation, context);
            return Task.CompletedTask;
        });
        options.AddDocumentTransformer((document, _, _) =>
        {
            foreach (var (name, schema) in document.Components?.Schemas ?? new Dictionary<string, IOpenApiSchema>())
            {
                if (schema is not OpenApiSchema model) continue;
                if (IsResponseModel(name)) ServerWrites(model);
                else if (RequestModel(name) is { } request) ServerReads(model, request);
            }
            return Task.CompletedTask;
        });
        return options;
    }

    // The response models (Wire*) are only ever written by the server, and code generated from the
    // document (the TypeScript SDK's types) should see what is sent, not what the shared JSON settings
    // would accept on reading.
    // (Nullable references are wrapped in "oneOf null" only when the document is assembled, so this runs
    // on the finished document, where a model's component is named after its type.)
    private static bool IsResponseModel(string componentName) =>
        componentName.StartsWith("Wire", StringComparison.Ordinal) && typeof(WireMessage).Assembly.GetType($"{typeof(WireMessage).Namespace}.{componentName}") is not null;

    // The request bodies (the wire namespace's *Request types) and the types of their properties there (WebPushKeys).
    private static readonly Lazy<Dictionary<string, Type>> RequestModels = new(() =>
    {
        var bodies = typeof(WireMessage).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(WireMessage).Namespace && t.Name.EndsWith("Request", StringComparison.Ordinal)).ToList();
        var parts = bodies.SelectMany(t => t.GetProperties()).Select(p => Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType)
            .Where(t => t.Namespace == typeof(WireMessage).Namespace);
        return bodies.Concat(parts).Distinct().ToDictionary(t => t.Name, StringComparer.Ordinal);
    });

    private static Type? RequestModel(string componentName) => RequestModels.Value.GetValueOrDefault(componentName);

    /// <summary>
    /// A request body's properties are read as nullable (so that the endpoint refuses a missing one with its own error),
    /// which the exporter describes as "required, may be null". What a client must do: send every property not marked
    /// <see cref="WireOptionalAttribute"/>, never as null; the optional ones it may leave out.
    /// </summary>
    private static void ServerReads(OpenApiSchema schema, Type model)
    {
        if (schema.Properties is null) return;
        foreach (var (name, property) in schema.Properties.ToList())
        {
            var optional = model.GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)
                ?.GetCustomAttribute<WireOptionalAttribute>() is not null;
            if (optional)
            {
                schema.Required?.Remove(name);
                continue;
            }
            (schema.Required ??= new HashSet<string>()).Add(name);
            if (property is OpenApiSchema value) DropNull(schema, name, value);
        }
    }

    /// <summary>
    /// Says that <paramref name="name"/> is never null: "null" leaves its type, or a "oneOf null or X" becomes X.
    /// True when it had allowed null.
    /// </summary>
    private static bool DropNull(OpenApiSchema schema, string name, OpenApiSchema value)
    {
        if (value.Type is { } nullable && nullable.HasFlag(JsonSchemaType.Null))
        {
            value.Type = nullable & ~JsonSchemaType.Null;
            return true;
        }
        if (value.OneOf is { Count: 2 } choices && choices.SingleOrDefault(c => c.Type != JsonSchemaType.Null) is { } single
            && choices.Any(c => c.Type == JsonSchemaType.Null))
        {
            schema.Properties![name] = single;
            return true;
        }
        return false;
    }

    /// <summary>
    /// Numbers are written as numbers (the JSON settings also read them from strings, which the exporter
    /// describes as "integer or string" with a pattern), and a property without a value is left out,
    /// never written as null: so it is optional and, when present, not null.
    /// </summary>
    private static void ServerWrites(OpenApiSchema schema)
    {
        if (schema.Properties is null) return;
        foreach (var (name, property) in schema.Properties.ToList())
        {
            if (property is not OpenApiSchema value) continue;
            if (value.Type is { } type && type.HasFlag(JsonSchemaType.Integer) && type.HasFlag(JsonSchemaType.String))
            {
                value.Type = type & ~JsonSchemaType.String;
                value.Pattern = null;
            }
            // Written without a value, it is left out: optional, and never null when present.
            if (DropNull(schema, name, value)) schema.Required?.Remove(name);
        }
    }

    /// <summary>
    /// Query numbers are bound as text and parsed by the endpoints (see <see cref="QueryValues"/>), which the
    /// generator would describe as strings; to a client they are numbers.
    /// </summary>
    private static void DescribeQueryNumbers(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        foreach (var description in context.Description.ParameterDescriptions)
        {
            var type = Nullable.GetUnderlyingType(description.Type) ?? description.Type;
            OpenApiSchema? schema = type == typeof(QueryInteger) ? new() { Type = JsonSchemaType.Integer, Format = "int64" }
                : type == typeof(QuerySeconds) ? new() { Type = JsonSchemaType.Number, Format = "double" }
                : null;
            if (schema is null) continue;
            foreach (var parameter in operation.Parameters ?? [])
            {
                if (parameter is OpenApiParameter p && p.Name == description.Name) p.Schema = schema;
            }
        }
    }
}
