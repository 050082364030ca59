using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;
using Messenger.Grains.Hosting;
using Messenger.Testing;

namespace Messenger.Tests.Deployment;

/// <summary>
/// The settings the code reads: every options class of the Messenger assemblies (a type with a
/// <c>public const string SectionName</c>), found by reflection, and the keys they take
/// (<c>Section:Property[:Index|:Property…]</c>).
/// </summary>
internal static class SettingsCatalog
{
    /// <summary>The options class of each section, by section name (configuration keys ignore case).</summary>
    public static IReadOnlyDictionary<string, Type> Sections { get; } = FindSections();

    /// <summary>
    /// Why <paramref name="key"/> (colon form, e.g. <c>Storage:Postgres:Databases:0:ConnectionString</c>)
    /// is not a setting of the code, or why <paramref name="literal"/> (when known) is not a value of it;
    /// null when it is both.
    /// </summary>
    public static string? Problem(string key, string? literal)
    {
        var segments = key.Split(':');
        if (segments.Length < 2 || segments.Any(string.IsNullOrEmpty)) return $"'{key}' is not of the form Section:Name";
        if (!Sections.TryGetValue(segments[0], out var type))
        {
            return $"no options class has SectionName '{segments[0]}' (the sections are {string.Join(", ", Sections.Keys.Order())})";
        }
        var path = segments[0];
        foreach (var segment in segments.Skip(1))
        {
            if (DictionaryValueType(type) is { } valueType)
            {
                type = valueType;
            }
            else if (ElementType(type) is { } elementType)
            {
                if (!int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    return $"{path} is a list: '{segment}' must be an index (as in {path}:0)";
                }
                type = elementType;
            }
            else
            {
                var property = type.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
                if (property is null)
                {
                    var names = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod?.IsPublic == true).Select(p => p.Name);
                    return $"{type.FullName} ({path}) has no property '{segment}' (it has {string.Join(", ", names)})";
                }
                if (property.SetMethod?.IsPublic != true) return $"{type.FullName}.{property.Name} ({path}:{segment}) cannot be set";
                type = property.PropertyType;
            }
            path += ":" + segment;
        }
        if (!IsValue(type)) return $"{key} is a section ({type.Name}), not a setting: name one of its properties";
        if (literal is not null && !Converts(type, literal)) return $"{key} is a {Nullable.GetUnderlyingType(type)?.Name ?? type.Name}: '{literal}' is not one";
        return null;
    }

    /// <summary>A new instance of the options class of <paramref name="section"/>, with its defaults.</summary>
    public static object Defaults(string section) => Activator.CreateInstance(Sections[section])!;

    private static bool IsValue(Type type) =>
        type == typeof(string) || TypeDescriptor.GetConverter(type).CanConvertFrom(typeof(string));

    // What the configuration binder does with a string: the type's converter, invariant culture.
    private static bool Converts(Type type, string value)
    {
        if (type == typeof(string)) return true;
        try
        {
            return TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value) is not null || Nullable.GetUnderlyingType(type) is not null;
        }
        catch (Exception ex) when (ex is FormatException or NotSupportedException or ArgumentException or OverflowException)
        {
            return false;
        }
    }

    private static Type? ElementType(Type type)
    {
        if (type.IsArray) return type.GetElementType();
        if (type == typeof(string) || !typeof(IEnumerable).IsAssignableFrom(type)) return null;
        return type.IsGenericType && type.GetGenericArguments() is [var element] ? element : null;
    }

    private static Type? DictionaryValueType(Type type) =>
        type.IsGenericType && type.GetGenericArguments() is [var key, var value] && key == typeof(string)
            && type.GetInterfaces().Append(type).Any(i => i.IsGenericType && i.GetGenericTypeDefinition() is var d
                && (d == typeof(IDictionary<,>) || d == typeof(IReadOnlyDictionary<,>)))
            ? value
            : null;

    private static Dictionary<string, Type> FindSections()
    {
        // Messenger.Grains is referenced by the tests; the gateway and the silo are built beside them
        // (Tests.csproj references them without loading them) and are read here in a context of their own.
        var assemblies = new[]
        {
            typeof(MessengerClusterOptions).Assembly,
            Isolated("Gateway", "Messenger.Gateway"),
            Isolated("Silo", "Messenger.Silo"),
        };
        var sections = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase);
        foreach (var assembly in assemblies)
        {
            foreach (var type in LoadableTypes(assembly))
            {
                if (type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static) is not { IsLiteral: true } field
                    || field.FieldType != typeof(string)) continue;
                var name = (string)field.GetRawConstantValue()!;
                if (!sections.TryAdd(name, type))
                {
                    throw new InvalidOperationException($"both {sections[name].FullName} and {type.FullName} have SectionName '{name}'");
                }
            }
        }
        return sections;
    }

    // Types whose base or interfaces live in ASP.NET Core (not loaded in the test host) fail to load;
    // options classes are plain, so they are never among them.
    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            return ex.Types.OfType<Type>();
        }
    }

    private static Assembly Isolated(string project, string assemblyName)
    {
        var path = Path.Combine(Repository.Root, project, "bin", Repository.Configuration, "net10.0", assemblyName + ".dll");
        if (!File.Exists(path)) throw new InvalidOperationException($"{path} is missing: build the solution (dotnet build Tests builds it too)");
        return new ComponentContext(path).LoadFromAssemblyPath(path);
    }

    /// <summary>
    /// Resolves an assembly's dependencies from its own deps.json, then from the ASP.NET Core shared
    /// framework (which the test host does not load), else from the test host. Everything must resolve:
    /// Orleans, starting a test cluster in this process, reads the attributes of every loaded assembly,
    /// these included, and one it cannot resolve fails that cluster.
    /// </summary>
    private sealed class ComponentContext(string path) : AssemblyLoadContext($"settings of {Path.GetFileName(path)}")
    {
        private static readonly string? AspNetCore = FindAspNetCore();
        private readonly AssemblyDependencyResolver _resolver = new(path);

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            if (_resolver.ResolveAssemblyToPath(assemblyName) is { } dependency) return LoadFromAssemblyPath(dependency);
            var shared = AspNetCore is null ? null : Path.Combine(AspNetCore, assemblyName.Name + ".dll");
            return shared is not null && File.Exists(shared) ? LoadFromAssemblyPath(shared) : null;
        }

        // <dotnet>/shared/Microsoft.NETCore.App/<version>/ is where the runtime runs from; ASP.NET Core of
        // the same version (else the newest) is beside it.
        private static string? FindAspNetCore()
        {
            var runtime = new DirectoryInfo(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory());
            var frameworks = runtime.Parent?.Parent;
            var aspNetCore = frameworks is null ? null : new DirectoryInfo(Path.Combine(frameworks.FullName, "Microsoft.AspNetCore.App"));
            if (aspNetCore is null || !aspNetCore.Exists) return null;
            var same = Path.Combine(aspNetCore.FullName, runtime.Name);
            return Directory.Exists(same) ? same : aspNetCore.GetDirectories().Select(d => d.FullName).Order(StringComparer.Ordinal).LastOrDefault();
        }
    }
}
