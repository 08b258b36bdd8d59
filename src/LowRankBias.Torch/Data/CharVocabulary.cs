using System.Text;

namespace LowRankBias.Torch.Data;

/// <summary>
/// A character-level vocabulary: the distinct characters (Unicode code points) of a text, sorted by code point,
/// each given its rank as token id.
/// </summary>
public sealed class CharVocabulary
{
    private readonly Rune[] _symbols;
    private readonly Dictionary<Rune, int> _ids;

    /// <summary>The vocabulary of the characters occurring in <paramref name="text"/>.</summary>
    public CharVocabulary(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        _symbols = [.. text.EnumerateRunes().Distinct().Order()];
        _ids = _symbols.Select((rune, id) => (rune, id)).ToDictionary(p => p.rune, p => p.id);
    }

    /// <summary>Number of distinct characters (the model's vocabulary size).</summary>
    public int Count => _symbols.Length;

    /// <summary>The characters, indexed by token id.</summary>
    public IReadOnlyList<Rune> Symbols => _symbols;

    /// <summary>The token ids of <paramref name="text"/>; every character must be in the vocabulary.</summary>
    public long[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<long>(text.Length);
        int position = 0;
        foreach (Rune rune in text.EnumerateRunes())
        {
            if (!_ids.TryGetValue(rune, out int id))
                throw new ArgumentException($"character '{rune}' (U+{rune.Value:X4}) at position {position} is not in the vocabulary", nameof(text));
            ids.Add(id);
            position += rune.Utf16SequenceLength;
        }
        return [.. ids];
    }

    /// <summary>The text the token ids stand for.</summary>
    public string Decode(ReadOnlySpan<long> ids)
    {
        var text = new StringBuilder(ids.Length);
        foreach (long id in ids)
        {
            if (id < 0 || id >= _symbols.Length) throw new ArgumentOutOfRangeException(nameof(ids), id, $"token id outside 0…{_symbols.Length - 1}");
            text.Append(_symbols[id].ToString());
        }
        return text.ToString();
    }
}
