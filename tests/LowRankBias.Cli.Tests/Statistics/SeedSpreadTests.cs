using LowRankBias.Statistics;

namespace LowRankBias.Cli.Tests.Statistics;

public class SeedSpreadTests
{
    [Fact]
    public void StdIsTheSampleStandardDeviationWithNMinusOne()
    {
        // 1, 2, 3, 4: mean 2.5, squared deviations sum to 5, so s = √(5/3) (√(5/4) if divided by n).
        Assert.Equal(Math.Sqrt(5.0 / 3), SeedSpread.Std([1, 2, 3, 4]), 12);
        Assert.Equal(0, SeedSpread.Std([7]));
    }

    [Fact]
    public void MeanStdScalesBothAndShowsASingleValueAlone()
    {
        Assert.Equal("250.0 ± 129.1", SeedSpread.MeanStd([1, 2, 3, 4], "F1", scale: 100));
        Assert.Equal("0.70", SeedSpread.MeanStd([0.7], "F2"));
    }
}
