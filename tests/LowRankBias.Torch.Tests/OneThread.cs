namespace LowRankBias.Torch.Tests;

/// <summary>Runs libtorch on one intra-op thread until disposed, as python3-torch (Debian's default) ran the scripts
/// whose reductions a test compares to float32 rounding; only for tests of the serial collection (the setting is the
/// process's).</summary>
internal sealed class OneThread : IDisposable
{
    private readonly int _threads = get_num_threads();

    public OneThread() => set_num_threads(1);

    public void Dispose() => set_num_threads(_threads);
}
