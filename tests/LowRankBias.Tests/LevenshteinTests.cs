namespace LowRankBias.Tests;

/// <summary>The shared edit distance against distances counted by hand.</summary>
public sealed class LevenshteinTests
{
    [Theory]
    [InlineData("kitten", "sitting", 3)] // k→s, e→i, +g
    [InlineData("", "abc", 3)]
    [InlineData("abc", "", 3)]
    [InlineData("--preest", "--preset", 2)] // a transposition is two edits
    [InlineData("flaw", "lawn", 2)]
    [InlineData("same", "same", 0)]
    public void CountsInsertionsDeletionsAndSubstitutions(string a, string b, int expected)
    {
        Assert.Equal(expected, Levenshtein.Distance<char>(a, b));
        Assert.Equal(expected, Levenshtein.Distance<char>(b, a));
    }

    [Fact]
    public void NeighbourListsAreSequencesToo()
    {
        // [3, 1, 4, 1] → [1, 4, 1, 5]: delete the leading 3, append 5.
        Assert.Equal(2, Levenshtein.Distance<long>([3, 1, 4, 1], [1, 4, 1, 5]));
    }
}
