namespace LowRankBias.Torch;

/// <summary>An error raised by libtorch, carrying libtorch's own message (shapes, dtypes, devices).</summary>
public sealed class TorchException : Exception
{
    /// <summary>Creates the exception with libtorch's message.</summary>
    public TorchException(string message) : base(message) { }
}
