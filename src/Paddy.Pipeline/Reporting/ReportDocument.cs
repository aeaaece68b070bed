using System.Net;
using System.Text;

namespace Paddy.Pipeline.Reporting;

/// <summary>One document written twice, as Markdown (report.md) and as self-contained HTML (index.html, images beside it).</summary>
public sealed class ReportDocument(string title)
{
    private readonly StringBuilder markdown = new($"# {title}\n\n");
    private readonly StringBuilder html = new(
        $"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{WebUtility.HtmlEncode(title)}</title>\n" +
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;}table{border-collapse:collapse;margin:1em 0;}" +
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;}th{background:#eee;}td:first-child{text-align:left;}" +
        $"img{{max-width:100%;}}</style></head><body>\n<h1>{WebUtility.HtmlEncode(title)}</h1>\n");

    public void Heading(string text)
    {
        markdown.Append($"## {text}\n\n");
        html.Append($"<h2>{WebUtility.HtmlEncode(text)}</h2>\n");
    }

    public void Paragraph(string text)
    {
        markdown.Append(text).Append("\n\n");
        html.Append($"<p>{WebUtility.HtmlEncode(text)}</p>\n");
    }

    public void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var materialized = rows.ToList();
        markdown.Append("| ").Append(string.Join(" | ", headers)).Append(" |\n|")
            .Append(string.Concat(headers.Select(_ => " --- |"))).Append('\n');
        foreach (var row in materialized) markdown.Append("| ").Append(string.Join(" | ", row)).Append(" |\n");
        markdown.Append('\n');
        html.Append("<table><tr>").Append(string.Concat(headers.Select(h => $"<th>{WebUtility.HtmlEncode(h)}</th>"))).Append("</tr>\n");
        foreach (var row in materialized)
            html.Append("<tr>").Append(string.Concat(row.Select(c => $"<td>{WebUtility.HtmlEncode(c)}</td>"))).Append("</tr>\n");
        html.Append("</table>\n");
    }

    public void Images(params (string File, string Caption)[] images)
    {
        foreach (var (file, caption) in images) markdown.Append($"![{caption}]({file})\n");
        markdown.Append('\n');
        html.Append("<p>").Append(string.Concat(images.Select(i =>
            $"<img src=\"{WebUtility.HtmlEncode(i.File)}\" alt=\"{WebUtility.HtmlEncode(i.Caption)}\" title=\"{WebUtility.HtmlEncode(i.Caption)}\">"))).Append("</p>\n");
    }

    public void Save(string folder)
    {
        File.WriteAllText(Path.Combine(folder, "report.md"), markdown.ToString());
        File.WriteAllText(Path.Combine(folder, "index.html"), html + "</body></html>\n");
    }
}
