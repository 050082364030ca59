using Messenger.Bench;
using Messenger.Bench.Relay;

// dotnet run -c Release --project Bench -- <workload> [options]; see BenchOptions.Usage and docs/PERFORMANCE.md.
if (args.Length > 0 && args[0] == "relay-server") return await RelayServer.RunAsync(args[1..]);

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}
return await BenchRunner.RunAsync(options, Console.Out);
