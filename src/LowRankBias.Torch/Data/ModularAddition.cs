namespace LowRankBias.Torch.Data;

/// <summary>
/// The grokking task (Power et al. 2022; Nanda et al. 2023; Yunis et al.): every pair (a, b) with
/// 0 ≤ a, b &lt; p, as the token sequence [a, b, =] with "=" the extra token p, labelled (a + b) mod p;
/// a random <c>train_fraction</c> of the p² pairs is the training set, the rest the test set.
/// Samples are int64 tokens [3] and an int64 label.
/// </summary>
public sealed class ModularAddition : IDisposable
{
    /// <summary>All p² pairs, split at random.</summary>
    /// <param name="p">The modulus (97 in Yunis et al., 113 in Nanda et al.).</param>
    /// <param name="train_fraction">Share of the pairs used for training (0.3 in Nanda et al.).</param>
    /// <param name="seed">Seed of the split.</param>
    public ModularAddition(int p = 97, double train_fraction = 0.3, ulong seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(p, 2);
        if (!(train_fraction > 0 && train_fraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(train_fraction), train_fraction, "must lie in (0, 1]");
        this.p = p;

        long pairs = (long)p * p;
        long[] order = new SplitMix64(seed).Permutation(pairs);
        long trainCount = Math.Max(1, (long)Math.Round(train_fraction * pairs));
        train = Build(order.AsSpan(0, (int)trainCount));
        test = Build(order.AsSpan((int)trainCount));
    }

    /// <summary>The modulus.</summary>
    public int p { get; }

    /// <summary>The id of the "=" token.</summary>
    public long equals_token => p;

    /// <summary>Number of input tokens: 0 … p−1 and "=".</summary>
    public int vocab_size => p + 1;

    /// <summary>The training pairs.</summary>
    public TensorDataset train { get; }

    /// <summary>The held-out pairs.</summary>
    public TensorDataset test { get; }

    // Pair number k stands for a = k / p, b = k mod p.
    private TensorDataset Build(ReadOnlySpan<long> pairIds)
    {
        var tokens = new long[pairIds.Length * 3];
        var labels = new long[pairIds.Length];
        for (int i = 0; i < pairIds.Length; i++)
        {
            long a = pairIds[i] / p, b = pairIds[i] % p;
            tokens[3 * i] = a;
            tokens[3 * i + 1] = b;
            tokens[3 * i + 2] = equals_token;
            labels[i] = (a + b) % p;
        }
        using Tensor x = torch.tensor(tokens, [pairIds.Length, 3]);
        using Tensor y = torch.tensor(labels);
        return new TensorDataset(x, y);
    }

    /// <summary>Frees both splits.</summary>
    public void Dispose()
    {
        train.Dispose();
        test.Dispose();
    }
}
