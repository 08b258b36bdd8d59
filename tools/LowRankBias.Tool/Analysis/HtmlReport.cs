using System.Globalization;
using System.Net;
using System.Text;

namespace LowRankBias.Tool.Analysis;

/// <summary>
/// report.html of <c>lowrankbias analyze</c>: one self-contained page — the summary, the per-layer table and every ESD
/// plot embedded as an SVG data URI, nothing fetched. A small inline script counts the plots the browser decoded into
/// <c>data-plots-loaded</c> on the body, so a headless browser's DOM shows that they render.
/// </summary>
internal static class HtmlReport
{
    public static string Render(string file, IReadOnlyList<LayerMetrics> rows, IReadOnlyDictionary<string, double> summary,
        IReadOnlyList<(string Layer, string SvgPath)> plots)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        static string F(double v) => double.IsNaN(v) ? "—" : v.ToString("G5", CultureInfo.InvariantCulture);
        var html = new StringBuilder();
        html.Append($$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>lowrankbias analyze: {{E(Path.GetFileName(file))}}</title>
            <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
            td:first-child,th:first-child,td:nth-child(2){text-align:left}figure{display:inline-block;margin:0.5em}img{width:640px}.path{color:#555;overflow-wrap:anywhere}</style></head>
            <body data-plots-loaded="0">
            <h1>WeightWatcher metrics of {{E(Path.GetFileName(file))}}</h1>
            <p class="path">{{E(file)}}</p>
            <h2>Summary (means over {{rows.Count}} layers)</h2>
            <table id="summary"><tr><th>metric</th><th>mean</th></tr>

            """);
        foreach ((string metric, double value) in summary) html.Append($"<tr><td>{E(metric)}</td><td>{F(value)}</td></tr>\n");
        html.Append("</table>\n<h2>Layers</h2>\n<table id=\"layers\"><tr><th>layer_id</th><th>name</th><th>shape</th>");
        foreach (var (name, _) in AnalyzeCommand.Columns) html.Append($"<th>{E(name)}</th>");
        html.Append("</tr>\n");
        foreach (LayerMetrics r in rows)
        {
            html.Append($"<tr><td>{r.LayerId}</td><td>{E(r.Name)}</td><td>{string.Join("×", r.Shape)}</td>");
            foreach (var (_, value) in AnalyzeCommand.Columns) html.Append($"<td>{F(value(r))}</td>");
            html.Append("</tr>\n");
        }
        html.Append("</table>\n<h2>ESD of each layer</h2>\n<div id=\"plots\">\n");
        foreach ((string layer, string svg) in plots)
            html.Append($"<figure><img class=\"esd\" alt=\"ESD of {E(layer)}\" src=\"data:image/svg+xml;base64,{Convert.ToBase64String(File.ReadAllBytes(svg))}\">" +
                $"<figcaption>{E(layer)}</figcaption></figure>\n");
        html.Append("""
            </div>
            <script>
            // Counts the plots that decoded (a broken one has naturalWidth 0), for headless checks of the page.
            window.addEventListener('load', () => {
              document.body.dataset.plotsLoaded = [...document.querySelectorAll('img.esd')].filter(i => i.complete && i.naturalWidth > 0).length;
            });
            </script>
            </body></html>

            """);
        return html.ToString();
    }
}
