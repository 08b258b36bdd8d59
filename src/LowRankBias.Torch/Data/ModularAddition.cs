namespace LowRankBias.Torch.Data;

/// <summary>
/// The grokking task (Power et al. 2022; Nanda et al. 2023; Yunis et al.): every pair (a, b) with
/// 0 ≤ a, b &lt; p, as the token sequence [a, b, =] with "=" the extra token p, labelled (a + b) mod p;
/// a random <c>trainFraction</c> of the p² pairs is the training set, the rest the test set.
/// Samples are int64 tokens [3] and an int64 label.
/// </summary>
public sealed class ModularAddition : IDisposable
{
    /// <summary>All p² pairs, split at random.</summary>
    /// <param name="p">The modulus (97 in Yunis et al., 113 in Nanda et al.).</param>
    /// <param name="trainFraction">Share of the pairs used for training (0.3 in Nanda et al.).</param>
    /// <param name="seed">Seed of the split.</param>
    public ModularAddition(int p = 97, double trainFraction = 0.3, ulong seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(p, 2);
        if (!(trainFraction > 0 && trainFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "must lie in (0, 1]");
        Modulus = p;

        long pairs = (long)p * p;
        long[] order = new SplitMix64(seed).Permutation(pairs);
        long trainCount = Math.Max(1, (long)Math.Round(trainFraction * pairs));
        Train = Build(order.AsSpan(0, (int)trainCount));
        Test = Build(order.AsSpan((int)trainCount));
    }

    /// <summary>The modulus.</summary>
    public int Modulus { get; }

    /// <summary>The id of the "=" token.</summary>
    public long EqualsToken => Modulus;

    /// <summary>Number of input tokens: 0 … p−1 and "=".</summary>
    public int VocabularySize => Modulus + 1;

    /// <summary>The training pairs.</summary>
    public TensorDataset Train { get; }

    /// <summary>The held-out pairs.</summary>
    public TensorDataset Test { get; }

    // Pair number k stands for a = k / p, b = k mod p.
    private TensorDataset Build(ReadOnlySpan<long> pairIds)
    {
        var tokens = new long[pairIds.Length * 3];
        var labels = new long[pairIds.Length];
        for (int i = 0; i < pairIds.Length; i++)
        {
            long a = pairIds[i] / Modulus, b = pairIds[i] % Modulus;
            tokens[3 * i] = a;
            tokens[3 * i + 1] = b;
            tokens[3 * i + 2] = EqualsToken;
            labels[i] = (a + b) % Modulus;
        }
        using Tensor x = torch.tensor(tokens, [pairIds.Length, 3]);
        using Tensor y = torch.tensor(labels);
        return new TensorDataset(x, y);
    }

    /// <summary>Frees both splits.</summary>
    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}
