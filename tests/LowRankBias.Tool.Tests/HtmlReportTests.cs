using System.Diagnostics;
using LowRankBias.Tool.Analysis;
using LowRankBias.Torch.Tests.IO;

namespace LowRankBias.Tool.Tests;

/// <summary>
/// report.html of `lowrankbias analyze` renders in a real browser: headless Chromium (Debian's chromium, installed by
/// scripts/setup.sh) loads the page from disk with the network unused, and its DOM after load must hold the summary
/// table and count every ESD plot as decoded (the page's own check: naturalWidth &gt; 0).
/// </summary>
public class HtmlReportTests
{
    [Fact]
    public async Task TheReportRendersItsTablesAndEveryPlotInHeadlessChromium()
    {
        using var dir = new TempDirectory();
        string input = Path.Combine(AppContext.BaseDirectory, "fixtures", "weightwatcher", "ww_input.pt");
        Assert.Equal(0, AnalyzeCommand.Run(input, dir.Path, new AnalyzeCommand.Options()));
        string html = File.ReadAllText(dir.File("report.html"));
        Assert.DoesNotContain("src=\"http", html); // self-contained
        Assert.DoesNotContain("src=\"esd/", html);

        string browser = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("chromium is not installed: run scripts/setup.sh");
        var start = new ProcessStartInfo(browser, ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + dir.File("profile"),
            "--dump-dom", new Uri(dir.File("report.html")).AbsoluteUri])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process chromium = Process.Start(start)!;
        Task<string> dom = chromium.StandardOutput.ReadToEndAsync();
        _ = chromium.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60)); // a hung browser fails the test, not the run
        try { await chromium.WaitForExitAsync(limit.Token); }
        catch (OperationCanceledException)
        {
            chromium.Kill(entireProcessTree: true);
            throw;
        }
        string rendered = await dom;
        Assert.Contains("data-plots-loaded=\"6\"", rendered); // the six layers of ww_input.pt that are analysed
        Assert.Contains("<table id=\"summary\">", rendered);
        Assert.Contains("<td>alpha_weighted</td>", rendered);
        Assert.Contains("<td>heavy.weight</td>", rendered);
    }
}
