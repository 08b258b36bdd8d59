namespace LowRankBias.Torch.Models;

/// <summary>Configuration and input checks shared by the models, so each failure names the model and the problem.</summary>
internal static class ModelChecks
{
    /// <summary>Throws for the first setting that is not positive.</summary>
    public static void Positive(params (string name, long value)[] settings)
    {
        foreach ((string name, long value) in settings)
            if (value < 1) throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive");
    }

    /// <summary>Throws unless <paramref name="input"/> is a batch of square images [N, channels, size, size].</summary>
    public static void Images(Tensor input, string model, long channels, long size)
    {
        if (input.dim() != 4 || input.size(2) != size || input.size(3) != size)
            throw new ArgumentException($"{model} expects images [N, {channels}, {size}, {size}], got shape [{string.Join(", ", input.shape)}]", nameof(input));
    }

    /// <summary>Throws unless <paramref name="input"/> is token ids [N, T] with T ≤ <paramref name="maxLength"/>
    /// (<paramref name="limit"/> names that bound).</summary>
    public static void Tokens(Tensor input, string model, long maxLength, string limit)
    {
        if (input.dim() != 2)
            throw new ArgumentException($"{model} expects token ids [N, T], got shape [{string.Join(", ", input.shape)}]", nameof(input));
        if (input.size(1) > maxLength)
            throw new ArgumentException($"sequence length {input.size(1)} exceeds {limit} {maxLength}", nameof(input));
    }
}
