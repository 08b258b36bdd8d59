using static LowRankBias.Torch.Native.NativeMethods;

namespace LowRankBias.Torch;

/// <summary>
/// A CPU random generator of its own (<c>torch.Generator</c>): sampling functions and initialisers that take one
/// draw from it instead of the global generator. Two generators with the same seed give the same draws, whatever
/// other threads do with the global generator meanwhile. Tensors on other devices are filled by drawing on the CPU
/// and copying (see <see cref="torch.nn.init"/>), so a seed means the same values on every device.
/// </summary>
public sealed class Generator : IDisposable
{
    private IntPtr _handle;
    private ulong _seed;

    /// <summary>A generator seeded with <paramref name="seed"/>.</summary>
    public Generator(ulong seed = 67280421310721UL)
    {
        _seed = seed;
        Check(lrb_generator_create(seed, out _handle));
    }

    /// <summary>Frees the native generator of one that was never disposed.</summary>
    ~Generator() => Free();

    /// <summary>Reseeds the generator (its later draws restart from <paramref name="seed"/>) and returns it.</summary>
    public Generator manual_seed(ulong seed)
    {
        IntPtr old = Handle;
        Check(lrb_generator_create(seed, out IntPtr fresh));
        _handle = fresh;
        _seed = seed;
        lrb_generator_free(old);
        return this;
    }

    /// <summary>The seed it was created or last reseeded with.</summary>
    public ulong initial_seed() => _seed;

    internal IntPtr Handle => _handle != IntPtr.Zero ? _handle : throw new ObjectDisposedException(nameof(Generator));

    /// <inheritdoc />
    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        IntPtr handle = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (handle != IntPtr.Zero) lrb_generator_free(handle);
    }
}
