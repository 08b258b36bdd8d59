namespace LowRankBias.Spectral;

/// <summary>How a convolution weight [c_out, c_in, kh, kw] is turned into matrices for spectral analysis.</summary>
public enum ConvolutionLayout
{
    /// <summary>One c_out × (c_in·kh·kw) matrix, mapping a patch of inputs to an output channel (Yunis et al. App. A.1).</summary>
    Flatten,

    /// <summary>kh·kw matrices c_out × c_in, one per kernel position, whose spectra are pooled into one (WeightWatcher style).</summary>
    PerKernelPosition,
}
