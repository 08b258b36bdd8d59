using LowRankBias.Torch.Modules;

namespace LowRankBias.Spectral;

/// <summary>How a layer's output becomes one feature vector per sample.</summary>
public enum FeaturePooling
{
    /// <summary>By the output's shape: [N, D] as it is, tokens [N, T, D] averaged over T (platonic-rep's <c>avg</c>
    /// pooling), channel maps [N, C, H, W] averaged over H and W.</summary>
    Auto,

    /// <summary>Token 0 of [N, T, D], the class token (platonic-rep's <c>cls</c> pooling of ViT blocks).</summary>
    ClassToken,
}

/// <summary>A module whose output (pooled per <see cref="Pooling"/>) is one layer's features, named <see cref="Name"/>.</summary>
public sealed record FeatureTap(string Name, Module Module, FeaturePooling Pooling = FeaturePooling.Auto);
