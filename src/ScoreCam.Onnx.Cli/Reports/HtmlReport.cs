using ScoreCam.Onnx.Core;
using System.Globalization;
using System.Net;
using System.Text;

namespace ScoreCam.Onnx.Cli.Reports;

/// <summary>
/// Writes a <see cref="ReportPage"/> as one self-contained HTML file: pictures embedded as data: URIs, inline style
/// and script, and a content security policy that lets the page load nothing from anywhere else. Pictures are shown
/// 256 pixels high; numbers with four decimals; entries can be filtered by target class.
/// </summary>
internal static class HtmlReport
{
    private const string Style = """
        body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
        h1 { margin-bottom: 0.2rem; } .subtitle { color: #555; margin-top: 0; }
        table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
        th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; } td.value, td.cell { text-align: right; font-variant-numeric: tabular-nums; }
        caption { text-align: left; font-weight: 600; padding-bottom: 0.2rem; }
        .entry { border-top: 1px solid #ddd; padding-top: 0.5rem; margin-top: 1rem; }
        .pictures { display: flex; flex-wrap: wrap; gap: 0.75rem; }
        figure { margin: 0; } figcaption { text-align: center; font-size: 0.9rem; }
        .frame { position: relative; display: inline-block; line-height: 0; }
        .frame img { height: 256px; width: auto; }
        .frame.scaled { margin-right: 3.5rem; }
        .area { position: absolute; left: 0; top: 0; bottom: 0; }
        .box { position: absolute; border: 2px solid #0f0; box-sizing: border-box; }
        .tick { position: absolute; left: 100%; padding-left: 0.25rem; font-size: 0.75rem; line-height: 1; white-space: nowrap; }
        .tick.top { top: 0; } .tick.middle { top: 50%; transform: translateY(-50%); } .tick.bottom { bottom: 0; }
        .details { display: flex; flex-wrap: wrap; gap: 2rem; align-items: flex-start; }
        .ci { color: #666; }
        """;

    private const string Script = """
        document.getElementById('class-filter').addEventListener('change', e => {
          for (const entry of document.querySelectorAll('.entry'))
            entry.hidden = e.target.value !== '' && entry.dataset.class !== e.target.value;
        });
        """;

    public static void Write(string path, ReportPage page) => AtomicFile.Write(path, Encoding.UTF8.GetBytes(Render(page)));

    public static string Render(ReportPage page)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n")
            .Append($"<title>{Text(page.Title)}</title>\n<style>\n{Style}</style>\n</head>\n<body>\n")
            .Append($"<h1>{Text(page.Title)}</h1>\n");
        if (page.Subtitle is { } subtitle) html.Append($"<p class=\"subtitle\">{Text(subtitle)}</p>\n");
        if (page.Summary is { } summary) Table(html, summary, "summary");

        html.Append("<p><label>Target class <select id=\"class-filter\"><option value=\"\">all</option>");
        foreach (string name in page.Entries.Select(e => e.Target.Name).Distinct().Order(StringComparer.Ordinal))
            html.Append($"<option>{Text(name)}</option>");
        html.Append("</select></label></p>\n");

        foreach (ReportEntry entry in page.Entries) Entry(html, entry);
        if (page.Failures.Count > 0)
        {
            html.Append("<section class=\"failures\"><h2>Not explained</h2>\n<ul>\n");
            foreach (ReportFailure f in page.Failures) html.Append($"<li><span class=\"name\">{Text(f.Name)}</span>: <span class=\"error\">{Text(f.Error)}</span></li>\n");
            html.Append("</ul>\n</section>\n");
        }
        html.Append($"<script>\n{Script}</script>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static void Entry(StringBuilder html, ReportEntry entry)
    {
        html.Append($"<article class=\"entry\" data-class=\"{Text(entry.Target.Name)}\">\n<h2>{Text(entry.Name)}</h2>\n<div class=\"pictures\">\n");
        Figure(html, entry.Input, "input", entry.Boxes);
        foreach (ReportPicture map in entry.Maps) Figure(html, map, "map", entry.Boxes);
        foreach (ReportPicture counterfactual in entry.Counterfactuals) Figure(html, counterfactual, "counterfactual", entry.Boxes);
        html.Append("</div>\n<div class=\"details\">\n");

        // A detector's entries have no most probable classes.
        if (entry.TopPredictions.Count > 0)
        {
            html.Append("<table class=\"predictions\"><caption>Top predictions</caption><tr><th>class</th><th>probability</th></tr>\n");
            foreach (ReportScore p in entry.TopPredictions)
                html.Append($"<tr class=\"prediction\"><td class=\"name\">{Text(p.Name)}</td><td class=\"value\">{Number(p.Value)}</td></tr>\n");
            html.Append("</table>\n");
        }
        html.Append("<table class=\"target\"><caption>Target</caption><tr><th>class</th><th>score</th></tr>\n")
            .Append($"<tr><td class=\"name\">{Text(entry.Target.Name)}</td><td class=\"value\">{Number(entry.Target.Value)}</td></tr>\n</table>\n");
        if (entry.CounterfactualCheck is { } check) Table(html, check, "counterfactual");
        if (entry.Metrics is { } metrics) Table(html, metrics, "metrics");
        html.Append("</div>\n</article>\n");
    }

    private static void Figure(StringBuilder html, ReportPicture picture, string kind, IReadOnlyList<ReportBox> boxes)
    {
        ColorScale? scale = picture.Scale;
        html.Append($"<figure class=\"{kind}\"><div class=\"frame{(scale is null ? "" : " scaled")}\"><img alt=\"{Text(picture.Caption)}\" src=\"data:image/png;base64,{Convert.ToBase64String(picture.Png)}\">");
        // Boxes are fractions of the picture, which ends where the colour bar's gap begins.
        html.Append($"<div class=\"area\" style=\"right:{Percent(scale?.BarFraction ?? 0)}\">");
        foreach (ReportBox b in boxes)
            html.Append($"<div class=\"box\" style=\"left:{Percent(b.Left)};top:{Percent(b.Top)};width:{Percent(b.Width)};height:{Percent(b.Height)}\"></div>");
        html.Append("</div>");
        if (scale is not null)
        {
            html.Append($"<span class=\"tick top\">{Text(scale.Top)}</span>");
            if (scale.Middle is { } middle) html.Append($"<span class=\"tick middle\">{Text(middle)}</span>");
            html.Append($"<span class=\"tick bottom\">{Text(scale.Bottom)}</span>");
        }
        html.Append($"</div><figcaption>{Text(picture.Caption)}</figcaption></figure>\n");
    }

    private static void Table(StringBuilder html, ReportTable table, string kind)
    {
        html.Append($"<table class=\"{kind}\"><caption>{Text(table.Caption)}</caption>\n<tr><th>{Text(table.RowHeader)}</th>");
        foreach (string column in table.Columns) html.Append($"<th>{Text(column)}</th>");
        html.Append("</tr>\n");
        foreach (ReportRow row in table.Rows)
        {
            if (row.Cells.Count != table.Columns.Count)
                throw new ArgumentException($"Row '{row.Name}' of table '{table.Caption}' has {row.Cells.Count} cells for {table.Columns.Count} columns.", nameof(table));
            html.Append($"<tr><th class=\"row\">{Text(row.Name)}</th>");
            foreach (ReportCell? cell in row.Cells)
            {
                html.Append("<td class=\"cell\">");
                if (cell is null || double.IsNaN(cell.Value)) html.Append('–');
                else
                {
                    html.Append($"<span class=\"value\">{Number(cell.Value)}</span>");
                    if (cell.Interval is { } interval) html.Append($" <span class=\"ci\">± {Number(interval)}</span>");
                }
                html.Append("</td>");
            }
            html.Append("</tr>\n");
        }
        html.Append("</table>\n");
    }

    private static string Number(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string Percent(double fraction) => (fraction * 100).ToString("0.###", CultureInfo.InvariantCulture) + "%";

    private static string Text(string s) => WebUtility.HtmlEncode(s);
}
