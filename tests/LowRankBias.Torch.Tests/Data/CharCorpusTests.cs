using System.Text;
using LowRankBias.Torch.Data;

namespace LowRankBias.Torch.Tests.Data;

public class CharCorpusTests
{
    [Fact]
    public void VocabularyIsTheSortedDistinctCharacters()
    {
        var vocab = new CharVocabulary("hello, world");
        Assert.Equal(" ,dehlorw", string.Concat(vocab.Symbols));
        Assert.Equal(new long[] { 4, 3, 5, 5, 6 }, vocab.Encode("hello"));
        Assert.Equal("world, hello", vocab.Decode(vocab.Encode("world, hello")));
        var e = Assert.Throws<ArgumentException>(() => vocab.Encode("hex"));
        Assert.Contains("'x' (U+0078) at position 2", e.Message);
    }

    [Fact]
    public void CharactersOutsideTheBasicPlaneAreSingleTokens()
    {
        var vocab = new CharVocabulary("a😀b");
        Assert.Equal(3, vocab.Count);
        Assert.Equal("😀a", vocab.Decode(vocab.Encode("😀a")));
    }

    [Fact]
    public void SplitKeepsTheLeadingPartForTrainingAndTheRestForValidation()
    {
        using var corpus = new CharCorpus("abcdefghij", valFraction: 0.2);
        Assert.Equal("abcdefgh", corpus.Vocabulary.Decode(corpus.Train.ToArray<long>()));
        Assert.Equal("ij", corpus.Vocabulary.Decode(corpus.Validation.ToArray<long>()));
    }

    [Fact]
    public void BlocksAreContiguousWindowsWithNextCharacterTargets()
    {
        const string text = "to be or not to be";
        using var corpus = new CharCorpus(text, valFraction: 0);
        using TextBlockDataset blocks = corpus.Blocks(blockSize: 4);
        Assert.Equal(text.Length - 4, blocks.Count);
        using var scope = NewDisposeScope();
        Tensor[] batch = blocks.GetItems(tensor(new long[] { 0, 7, 13 }));
        Assert.Equal(new long[] { 3, 4 }, batch[0].shape);
        long[] x = batch[0].ToArray<long>(), y = batch[1].ToArray<long>();
        int[] starts = [0, 7, 13];
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(text.Substring(starts[i], 4), corpus.Vocabulary.Decode(x.AsSpan(4 * i, 4)));
            Assert.Equal(text.Substring(starts[i] + 1, 4), corpus.Vocabulary.Decode(y.AsSpan(4 * i, 4)));
        }
    }

    [Fact]
    public void ShuffledLoaderGivesRandomBlocksOfTheTrainingText()
    {
        // A text in which every 16-character window occurs once, so a block's position is recoverable.
        string text = string.Concat(Enumerable.Range(0, 400).Select(i => $"{i:D4}:{(char)('a' + i % 26)}{(char)('A' + i * 7 % 26)}\n"));
        using var folder = new TempFolder();
        string path = folder.Write("corpus.txt", Encoding.UTF8.GetBytes(text));
        using var corpus = CharCorpus.Load(path);
        Assert.Equal(text.Distinct().Count(), corpus.Vocabulary.Count);
        Assert.Equal(text, corpus.Vocabulary.Decode([.. corpus.Train.ToArray<long>(), .. corpus.Validation.ToArray<long>()]));
        Assert.Equal((int)(text.Length * 0.9), corpus.Train.size(0));

        using TextBlockDataset blocks = corpus.Blocks(blockSize: 16);
        var loader = new DataLoader(blocks, batch_size: 8, shuffle: true, seed: 1);
        using var scope = NewDisposeScope();
        Tensor[] batch = loader.Next();
        long[] x = batch[0].ToArray<long>(), y = batch[1].ToArray<long>();
        string train = text[..(int)corpus.Train.size(0)];
        var starts = new List<int>();
        for (int i = 0; i < 8; i++)
        {
            string block = corpus.Vocabulary.Decode(x.AsSpan(16 * i, 16));
            string target = corpus.Vocabulary.Decode(y.AsSpan(16 * i, 16));
            Assert.Equal(block[1..], target[..^1]);
            int start = train.IndexOf(block + target[^1], StringComparison.Ordinal);
            Assert.True(start >= 0, "a block and its last target must be contiguous training text");
            starts.Add(start);
        }
        Assert.NotEqual(starts.Order(), starts); // random positions, not consecutive ones
    }

    [Fact]
    public void BadFilesAreReportedWithTheirName()
    {
        using var folder = new TempFolder();
        string empty = folder.Write("empty.txt", []);
        Assert.Contains($"{empty}: the file is empty", Assert.Throws<InvalidDataException>(() => CharCorpus.Load(empty)).Message);
        string latin1 = folder.Write("latin1.txt", Encoding.Latin1.GetBytes("café"));
        Assert.Contains($"{latin1}: not valid UTF-8", Assert.Throws<InvalidDataException>(() => CharCorpus.Load(latin1)).Message);
        string missing = Path.Combine(folder.Path, "missing.txt");
        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => CharCorpus.Load(missing)).Message);
        using var shortText = new CharCorpus("abc", valFraction: 0);
        Assert.Contains("3 tokens are too few for a block of 3", Assert.Throws<ArgumentException>(() => shortText.Blocks(3)).Message);
    }
}
