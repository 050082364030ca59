using System.Reflection;
using Messenger.Grains.Storage;

namespace Messenger.Tests.Storage;

/// <summary>The contract suite names every method of every store: a new method cannot land untested.</summary>
public sealed class StoreContractCoverageTests
{
    [Theory]
    [InlineData(typeof(IAccountStore))]
    [InlineData(typeof(IConversationStore))]
    [InlineData(typeof(IUserLogStore))]
    [InlineData(typeof(IPushOutboxStore))]
    [InlineData(typeof(IStoreSchema))]
    public void EveryStoreMethod_HasAContractTestNamedAfterIt(Type store)
    {
        var tests = typeof(StoreContract).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.GetCustomAttributes<FactAttribute>().Any())
            .Select(m => m.Name)
            .ToList();

        foreach (var method in store.GetMethods())
        {
            var stem = method.Name.EndsWith("Async", StringComparison.Ordinal) ? method.Name[..^"Async".Length] : method.Name;
            Assert.True(tests.Any(t => t.StartsWith(stem + "_", StringComparison.Ordinal)),
                $"{store.Name}.{method.Name} has no contract test named {stem}_…");
        }
    }
}
