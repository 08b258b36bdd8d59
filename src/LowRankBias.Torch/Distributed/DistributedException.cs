namespace LowRankBias.Torch.Distributed;

/// <summary>
/// A distributed operation failed: a peer died or stopped answering within the timeout, the rendezvous could not
/// be formed (port in use, master unreachable, world sizes or configurations that disagree). The message says what,
/// on which rank; <see cref="Exception.InnerException"/> carries libtorch's own message when there is one.
/// </summary>
public sealed class DistributedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DistributedException(string message, Exception? inner = null) : base(message, inner) { }
}
