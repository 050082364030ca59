using System.Globalization;
using System.Text;

namespace Messenger.Bench.Results;

/// <summary>
/// A plain-text table: left-aligned first column, right-aligned figures. A column with no value in any row ("-" in every
/// one: a figure this kind of run does not have, such as a relay's store commits or a cluster's runtime counters) is left
/// out of the text and the Markdown; the JSON results keep every field.
/// </summary>
public sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public IReadOnlyList<string> Headers { get; } = headers;

    public void Add(params object?[] cells) => _rows.Add(cells.Select(Format).ToArray());

    public static string Format(object? value) => value switch
    {
        null => "-",
        double d when double.IsNaN(d) => "-",
        double d when Math.Abs(d) >= 100 => d.ToString("F0", CultureInfo.InvariantCulture),
        double d when Math.Abs(d) >= 10 => d.ToString("F1", CultureInfo.InvariantCulture),
        double d => d.ToString("F2", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    public override string ToString()
    {
        var shown = ShownColumns();
        var headers = Pick(Headers, shown);
        var rows = _rows.Select(row => Pick(row, shown)).ToList();
        var widths = new int[headers.Length];
        for (var c = 0; c < widths.Length; c++)
        {
            widths[c] = headers[c].Length;
            foreach (var row in rows) widths[c] = Math.Max(widths[c], row[c].Length);
        }
        var text = new StringBuilder();
        AppendRow(text, headers, widths);
        text.Append("  ").AppendJoin("  ", widths.Select(w => new string('-', w))).AppendLine();
        foreach (var row in rows) AppendRow(text, row, widths);
        return text.ToString();
    }

    /// <summary>The table as Markdown (for docs/PERFORMANCE.md).</summary>
    public string ToMarkdown()
    {
        var shown = ShownColumns();
        var headers = Pick(Headers, shown);
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", headers).AppendLine(" |");
        text.Append('|').AppendJoin("|", headers.Select((_, i) => i == 0 ? "---" : "---:")).AppendLine("|");
        foreach (var row in _rows) text.Append("| ").AppendJoin(" | ", Pick(row, shown)).AppendLine(" |");
        return text.ToString();
    }

    /// <summary>The columns to show: the first, and every other that has a value in some row (all of them in a table with no rows).</summary>
    private int[] ShownColumns() => Enumerable.Range(0, Headers.Count)
        .Where(c => c == 0 || _rows.Count == 0 || _rows.Any(row => c < row.Length && row[c] != "-"))
        .ToArray();

    private static string[] Pick(IReadOnlyList<string> cells, int[] columns) => columns.Select(c => c < cells.Count ? cells[c] : "").ToArray();

    private static void AppendRow(StringBuilder text, IReadOnlyList<string> cells, int[] widths)
    {
        text.Append("  ");
        for (var c = 0; c < widths.Length; c++)
        {
            var cell = c < cells.Count ? cells[c] : "";
            text.Append(c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]));
            if (c < widths.Length - 1) text.Append("  ");
        }
        text.AppendLine();
    }
}
