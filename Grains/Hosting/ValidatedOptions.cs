using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Messenger.Grains.Hosting;

/// <summary>How every options class of the messenger is registered, in gateways and silos alike.</summary>
public static class ValidatedOptions
{
    /// <summary>
    /// Binds <typeparamref name="T"/> to <paramref name="section"/> and checks it with <paramref name="validate"/> at
    /// start-up: a wrong value stops the process with the validator's message, which names the setting.
    /// </summary>
    public static IServiceCollection AddValidatedOptions<T>(this IServiceCollection services, IConfiguration configuration, string section, Action<T> validate)
        where T : class
    {
        services.AddOptions<T>()
            .Bind(configuration.GetSection(section))
            .Validate(o => { validate(o); return true; })
            .ValidateOnStart();
        return services;
    }
}
