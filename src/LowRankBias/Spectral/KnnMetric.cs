namespace LowRankBias.Spectral;

/// <summary>How nearest neighbours are found among a feature set's samples.</summary>
public enum KnnMetric
{
    /// <summary>Largest cosine similarity, i.e. inner product of L2-normalised features (the Huh thesis's default).</summary>
    Cosine,

    /// <summary>Smallest Euclidean distance between the raw features.</summary>
    Euclidean,
}
