namespace LowRankBias.Torch;

/// <summary>Reads whether a tensor holds NaN or ±∞, for the library's checks that refuse non-finite values.</summary>
internal static class NonFiniteValues
{
    /// <summary>True when every element is finite (one read from the device; always for integer and bool tensors).</summary>
    public static bool AllFinite(Tensor t)
    {
        if (!t.dtype.IsFloatingPoint()) return true;
        using Tensor finite = t.isfinite();
        using Tensor all = finite.all();
        return all.item<bool>();
    }

    /// <summary>"3 NaN and 1 ±∞ of its 12 values", for messages.</summary>
    public static string Describe(Tensor t)
    {
        using Tensor nan = t.isnan();
        using Tensor nanCount = nan.sum();
        using Tensor finite = t.isfinite();
        using Tensor finiteCount = finite.sum();
        long nans = nanCount.item<long>(), infinities = t.numel() - finiteCount.item<long>() - nans;
        return $"{nans} NaN and {infinities} ±∞ of its {t.numel()} values";
    }
}
