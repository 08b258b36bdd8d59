using System.Globalization;
using LowRankBias.Samples;
using LowRankBias.Torch.Tests.IO;

namespace LowRankBias.Cli.Tests.Samples;

public class CsvTableTests
{
    [Fact]
    public void DoublesRoundTripAndNumbersIgnoreTheCulture()
    {
        CultureInfo before = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE"); // decimal comma: must not leak into a CSV
        try
        {
            double third = 1.0 / 3, tiny = 1e-300 * Math.PI;
            Assert.Equal(third, double.Parse(CsvTable.Cell(third), CultureInfo.InvariantCulture)); // exactly, not to 15 digits
            Assert.Equal(tiny, double.Parse(CsvTable.Cell(tiny), CultureInfo.InvariantCulture));
            Assert.Equal(0.1f, float.Parse(CsvTable.Cell(0.1f), CultureInfo.InvariantCulture));
            Assert.Equal("NaN", CsvTable.Cell(double.NaN));
            Assert.Equal("1234567", CsvTable.Cell(1_234_567L));
            Assert.Equal("", CsvTable.Cell(null));
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
        }
    }

    [Fact]
    public void TextIsQuotedOnlyWhenItWouldBreakTheRow()
    {
        Assert.Equal("FC ×2", CsvTable.Cell("FC ×2"));
        Assert.Equal("\"a,b\"", CsvTable.Cell("a,b"));
        Assert.Equal("\"say \"\"hi\"\"\"", CsvTable.Cell("say \"hi\""));
        Assert.Equal("\"two\nlines\"", CsvTable.Cell("two\nlines"));
    }

    [Fact]
    public void SaveWritesHeaderAndRowsAndAppendingGrowsTheFileRowByRow()
    {
        using var dir = new TempDirectory();
        var table = new CsvTable("method", "seed", "accuracy");
        table.Add("lora", 0, 0.5);
        table.Add("dora", 1, 0.25);
        table.Save(dir.File("t.csv"));
        Assert.Equal(["method,seed,accuracy", "lora,0,0.5", "dora,1,0.25"], File.ReadAllLines(dir.File("t.csv")));

        var log = CsvTable.Appending(dir.File("log.csv"), "step", "loss");
        Assert.Equal(["step,loss"], File.ReadAllLines(dir.File("log.csv")));
        log.Add(1, 2.5);
        Assert.Equal(["step,loss", "1,2.5"], File.ReadAllLines(dir.File("log.csv")));
        Assert.Equal(1, log.Count);
    }

    [Fact]
    public void ARowOfTheWrongWidthOrABadHeaderIsRefusedNamingIt()
    {
        var table = new CsvTable("a", "b");
        var e = Assert.Throws<ArgumentException>(() => table.Add(1));
        Assert.Contains("1 cells for 2 columns (a,b)", e.Message);
        Assert.Equal(0, table.Count);
        Assert.Contains("'a' is named twice", Assert.Throws<ArgumentException>(() => new CsvTable("a", "a")).Message);
        Assert.Throws<ArgumentException>(() => new CsvTable());
    }
}
