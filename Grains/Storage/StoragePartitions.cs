using System.Buffers;
using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace Messenger.Grains.Storage;

/// <summary>
/// The fixed set of logical partitions that conversations and users are spread over: an id's
/// partition is a hash of its UTF-8 bytes, the same in every process and every version. A backend
/// maps partitions to databases by configuration, so adding a database moves whole partitions and
/// never rehashes a row. The count never changes once data exists.
/// </summary>
public static class StoragePartitions
{
    /// <summary>How many logical partitions there are.</summary>
    public const int Count = 256;

    /// <summary>The partition of a conversation or user id.</summary>
    public static int Of(string id)
    {
        var max = Encoding.UTF8.GetMaxByteCount(id.Length);
        byte[]? rented = null;
        var bytes = max <= 512 ? stackalloc byte[max] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var length = Encoding.UTF8.GetBytes(id, bytes);
            return (int)(XxHash32.HashToUInt32(bytes[..length]) % Count);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Every partition, in order.</summary>
    public static int[] All() => Enumerable.Range(0, Count).ToArray();

    /// <summary>
    /// Parses ranges such as <c>0-127</c> or <c>0-63, 128-191, 200</c>; throws <see cref="FormatException"/>
    /// on anything else, on a partition outside 0…<see cref="Count"/>-1, and on a partition named twice.
    /// </summary>
    public static int[] ParseRanges(string ranges)
    {
        if (string.IsNullOrWhiteSpace(ranges)) throw new FormatException("no partitions given (e.g. \"0-127\")");
        var result = new SortedSet<int>();
        foreach (var part in ranges.Split(',', StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-');
            var from = ParsePartition(dash < 0 ? part : part[..dash], ranges);
            var to = dash < 0 ? from : ParsePartition(part[(dash + 1)..], ranges);
            if (to < from) throw new FormatException($"range \"{part}\" runs backwards");
            for (var p = from; p <= to; p++)
            {
                if (!result.Add(p)) throw new FormatException($"partition {p} is named twice in \"{ranges}\"");
            }
        }
        return result.ToArray();
    }

    private static int ParsePartition(string text, string ranges)
    {
        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var partition) || partition >= Count)
        {
            throw new FormatException($"\"{ranges}\" is not a list of partitions 0-{Count - 1} (e.g. \"0-127\" or \"0-63,128-191\")");
        }
        return partition;
    }
}
