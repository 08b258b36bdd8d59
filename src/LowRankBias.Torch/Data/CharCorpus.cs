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
    /// <param name="valFraction">Share of the text, taken from its end, held out for validation.</param>
    public CharCorpus(string text, double valFraction = 0.1)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!(valFraction >= 0 && valFraction < 1)) throw new ArgumentOutOfRangeException(nameof(valFraction), valFraction, "must lie in [0, 1)");
        Vocabulary = new CharVocabulary(text);
        long[] ids = Vocabulary.Encode(text);
        int trainLength = (int)(ids.Length * (1 - valFraction));
        Train = torch.from_array<long>(ids.AsSpan(0, trainLength), [trainLength]).DetachFromDisposeScope();
        Validation = torch.from_array<long>(ids.AsSpan(trainLength), [ids.Length - trainLength]).DetachFromDisposeScope();
    }

    /// <summary>Reads a UTF-8 text file and builds its corpus (see the constructor).</summary>
    public static CharCorpus Load(string path, double valFraction = 0.1)
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
        return new CharCorpus(text, valFraction);
    }

    /// <summary>The vocabulary (all characters of the whole text).</summary>
    public CharVocabulary Vocabulary { get; }

    /// <summary>Token ids of the training part, int64 [length] (owned by the corpus).</summary>
    public Tensor Train { get; }

    /// <summary>Token ids of the validation part, int64 [length] (owned by the corpus).</summary>
    public Tensor Validation { get; }

    /// <summary>All blocks of <paramref name="blockSize"/> tokens of one part, with next-token targets.</summary>
    public TextBlockDataset Blocks(int blockSize, bool training = true) => new(training ? Train : Validation, blockSize);

    /// <summary>Frees the token tensors.</summary>
    public void Dispose()
    {
        Train.Dispose();
        Validation.Dispose();
    }
}
