using System.Text;
using System.Text.Json;

namespace Messenger.Grains.Storage;

/// <summary>
/// How every backend stores the counts of a receipts update in the <c>receipts</c> column of a user's update
/// row: a JSON array of <c>[seq, delivered, read, of]</c> arrays. Other updates store null.
/// </summary>
internal static class ReceiptsColumn
{
    public static string? Encode(IReadOnlyList<MessageReceipt>? receipts)
    {
        if (receipts is null) return null;
        var text = new StringBuilder(receipts.Count * 24).Append('[');
        for (var i = 0; i < receipts.Count; i++)
        {
            var r = receipts[i];
            if (i > 0) text.Append(',');
            text.Append('[').Append(r.Seq).Append(',').Append(r.Delivered).Append(',').Append(r.Read).Append(',').Append(r.Of).Append(']');
        }
        return text.Append(']').ToString();
    }

    public static IReadOnlyList<MessageReceipt>? Decode(string? text)
    {
        if (text is null) return null;
        using var doc = JsonDocument.Parse(text);
        var list = new List<MessageReceipt>();
        foreach (var r in doc.RootElement.EnumerateArray())
        {
            list.Add(new MessageReceipt(r[0].GetInt64(), r[1].GetInt32(), r[2].GetInt32(), r[3].GetInt32()));
        }
        return list;
    }
}
