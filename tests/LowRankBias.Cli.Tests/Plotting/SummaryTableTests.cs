using LowRankBias.Plotting;

namespace LowRankBias.Cli.Tests.Plotting;

public class SummaryTableTests
{
    [Fact]
    public void MarkdownHasAHeaderNumbersAlignedRightAndEscapedPipes()
    {
        var table = new SummaryTable("run", "accuracy");
        table.AddRow("LTE | 4 heads", "73.8 %");
        table.AddRow("full rank", "83.2 %");
        Assert.Equal("| run | accuracy |\n|---|---:|\n| LTE \\| 4 heads | 73.8 % |\n| full rank | 83.2 % |\n", table.ToMarkdown());
        Assert.Equal(2, table.Rows.Count);
    }

    [Fact]
    public void ARowOfTheWrongWidthOrNoColumnsAreRefused()
    {
        var table = new SummaryTable("a", "b");
        Assert.Contains("1 cells for 2 columns", Assert.Throws<ArgumentException>(() => table.AddRow("x")).Message);
        Assert.Throws<ArgumentException>(() => new SummaryTable());
    }
}
