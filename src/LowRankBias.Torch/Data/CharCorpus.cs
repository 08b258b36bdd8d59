using System.Text;

namespace LowRankBias.Torch.Data;

/// <summary>
/// A text for character-level language modelling (e.g. Tiny Shakespeare): its vocabulary and its token ids,
/// split into a leading training part and a trailing validation part. Owns the token tensors.
/// </summary>
public sealed class CharCorpus : IDisposable
{
    /// <summary>Tokenises <paramref name="text"/> with its own vocabulary and splits it.</summary>
    /// <param name="text">The whole text.</param>
    /// <param name="val_fraction">Share of the text, taken from its end, held out for validation.</param>
    public CharCorpus(string text, double val_fraction = 0.1)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!(val_fraction >= 0 && val_fraction < 1)) throw new ArgumentOutOfRangeException(nameof(val_fraction), val_fraction, "must lie in [0, 1)");
        vocab = new CharVocabulary(text);
        long[] ids = vocab.Encode(text);
        int trainLength = (int)(ids.Length * (1 - val_fraction));
        train = torch.from_array<long>(ids.AsSpan(0, trainLength), [trainLength]).DetachFromDisposeScope();
        val = torch.from_array<long>(ids.AsSpan(trainLength), [ids.Length - trainLength]).DetachFromDisposeScope();
    }

    /// <summary>Reads a UTF-8 text file and builds its corpus (see the constructor).</summary>
    public static CharCorpus Load(string path, double val_fraction = 0.1)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        string text;
        try
        {
            text = File.ReadAllText(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true));
        }
        catch (DecoderFallbackException e)
        {
            throw DataFile.Malformed(path, $"not valid UTF-8 ({e.Message})", e);
        }
        if (text.Length == 0) throw DataFile.Malformed(path, "the file is empty");
        return new CharCorpus(text, val_fraction);
    }

    /// <summary>The vocabulary (all characters of the whole text).</summary>
    public CharVocabulary vocab { get; }

    /// <summary>Token ids of the training part, int64 [length] (owned by the corpus).</summary>
    public Tensor train { get; }

    /// <summary>Token ids of the validation part, int64 [length] (owned by the corpus).</summary>
    public Tensor val { get; }

    /// <summary>All blocks of <paramref name="block_size"/> tokens of one part, with next-token targets.</summary>
    public TextBlockDataset Blocks(int block_size, bool training = true) => new(training ? train : val, block_size);

    /// <summary>Frees the token tensors.</summary>
    public void Dispose()
    {
        train.Dispose();
        val.Dispose();
    }
}
