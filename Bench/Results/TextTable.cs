using System.Globalization;
using System.Text;

namespace Messenger.Bench.Results;

/// <summary>A plain-text table: left-aligned first column, right-aligned figures.</summary>
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
        var widths = new int[Headers.Count];
        for (var c = 0; c < widths.Length; c++)
        {
            widths[c] = Headers[c].Length;
            foreach (var row in _rows) if (c < row.Length) widths[c] = Math.Max(widths[c], row[c].Length);
        }
        var text = new StringBuilder();
        AppendRow(text, Headers, widths);
        text.Append("  ").AppendJoin("  ", widths.Select(w => new string('-', w))).AppendLine();
        foreach (var row in _rows) AppendRow(text, row, widths);
        return text.ToString();
    }

    /// <summary>The table as Markdown (for docs/PERFORMANCE.md).</summary>
    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", Headers).AppendLine(" |");
        text.Append('|').AppendJoin("|", Headers.Select((_, i) => i == 0 ? "---" : "---:")).AppendLine("|");
        foreach (var row in _rows) text.Append("| ").AppendJoin(" | ", row).AppendLine(" |");
        return text.ToString();
    }

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
