using System.Text.Json.Nodes;

namespace Messenger.Bench.Hosting;

/// <summary>
/// Counts what the server logged at warning level and above (console logger: lines starting
/// <c>warn:</c>, <c>fail:</c>, <c>crit:</c>, followed by the message on the next line) and keeps the
/// first of each kind, so a report says precisely what went wrong under load.
/// </summary>
public sealed class ServerLog
{
    private readonly Dictionary<string, int> _byHeader = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _firstMessage = new(StringComparer.Ordinal);
    private string? _awaitingMessageFor;

    public int Warnings { get; private set; }
    public int Errors { get; private set; }

    internal void Add(string line)
    {
        lock (_byHeader) AddLocked(line);
    }

    private void AddLocked(string line)
    {
        if (_awaitingMessageFor is not null)
        {
            _firstMessage.TryAdd(_awaitingMessageFor, line.Trim());
            _awaitingMessageFor = null;
        }
        var level = line.Length >= 5 ? line[..5] : "";
        if (level is not ("warn:" or "fail:" or "crit:")) return;
        if (level == "warn:") Warnings++;
        else Errors++;
        var header = line.Trim();
        _byHeader[header] = _byHeader.GetValueOrDefault(header) + 1;
        if (!_firstMessage.ContainsKey(header)) _awaitingMessageFor = header;
    }

    /// <summary>One line per kind: count, header, first message.</summary>
    public IReadOnlyList<string> Describe()
    {
        lock (_byHeader)
        {
            var lines = new List<string>();
            foreach (var (header, count) in _byHeader.OrderByDescending(p => p.Value))
            {
                lines.Add($"{count} x {header} {_firstMessage.GetValueOrDefault(header, "")}");
            }
            return lines;
        }
    }

    public JsonObject ToJson()
    {
        var kinds = new JsonArray();
        foreach (var line in Describe()) kinds.Add(line);
        return new JsonObject { ["warnings"] = Warnings, ["errors"] = Errors, ["kinds"] = kinds };
    }
}
