namespace LowRankBias.Spectral;

/// <summary>Similarity kernel κ(φᵢ, φⱼ) between two samples' feature vectors (Huh thesis §2.3 and App. 7.3).</summary>
public enum GramKernel
{
    /// <summary>φᵢ·φⱼ / (‖φᵢ‖‖φⱼ‖), the thesis's default; a zero feature vector has similarity 0 with everything.</summary>
    Cosine,

    /// <summary>φᵢ·φⱼ.</summary>
    Linear,

    /// <summary>Pearson correlation of φᵢ and φⱼ (cosine after removing each vector's mean); a constant vector gives 0.</summary>
    Correlation,
}
