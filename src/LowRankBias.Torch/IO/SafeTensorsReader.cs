using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using static LowRankBias.Torch.Native.NativeMethods;

namespace LowRankBias.Torch.IO;

/// <summary>
/// A safetensors file opened for reading one tensor at a time, as Python's <c>safetensors.safe_open</c>: the file is
/// memory-mapped, the header parsed and checked once, and <see cref="get_tensor"/> copies only the bytes of the
/// tensor asked for, then (Linux, macOS) releases the mapped pages it read from the process's resident set — the
/// kernel's page cache keeps them, a second read faults them back in — so files of many gigabytes can be walked with
/// the memory of their largest tensor, not of the file.
/// </summary>
public sealed unsafe partial class SafeTensorsReader : IDisposable
{
    private readonly string _path;
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly long _dataStart;
    private readonly SafeTensorsHeader _header;
    private readonly Dictionary<string, SafeTensorsEntry> _entries;
    private bool _disposed;

    internal SafeTensorsReader(string path)
    {
        _path = path;
        using (FileStream file = SafeTensors.OpenRead(path))
            _header = SafeTensors.ReadHeader(file, path, out _dataStart);
        _entries = _header.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, capacity: 0, MemoryMappedFileAccess.Read);
        _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _base = pointer + _view.PointerOffset;
    }

    /// <summary>The tensors' names, in the order of the file's header.</summary>
    public IReadOnlyList<string> keys() => _header.Entries.Select(e => e.Name).ToList();

    /// <summary>The <c>__metadata__</c> string map (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> metadata() => _header.Metadata;

    /// <summary>The shape of tensor <paramref name="name"/>, from the header (nothing is read).</summary>
    public long[] shape(string name) => (long[])Entry(name).Shape.Clone();

    /// <summary>The element type of tensor <paramref name="name"/>, from the header (nothing is read).</summary>
    public ScalarType dtype(string name) => Entry(name).DType;

    /// <summary>Tensor <paramref name="name"/>, copied from the mapped file onto <paramref name="device"/> (CPU by default).</summary>
    public Tensor get_tensor(string name, Device? device = null)
    {
        SafeTensorsEntry e = Entry(name);
        Device target = device ?? Device.CPU;
        target.EnsureAvailable();
        byte* data = _base + _dataStart + e.Begin;
        if (e.DType == ScalarType.Bool)
            for (long i = 0; i < e.Length; i++)
                if (data[i] > 1) throw SafeTensorsHeader.Invalid(_path, $"tensor '{e.Name}': BOOL element {i} holds the byte {data[i]}, not 0 or 1");
        byte empty = 0;
        IntPtr handle;
        fixed (long* shape = e.Shape)
            Check(lrb_tensor_from_data(e.Length == 0 ? &empty : data, e.Length, shape, e.Shape.Length, (int)e.DType, (int)target.Type, target.Index, 0, out handle));
        ReleasePages(data, e.Length);
        GC.KeepAlive(this);
        return new Tensor(handle);
    }

    // madvise(MADV_DONTNEED) on the whole pages inside [data, data + length): the pages at either end may hold a
    // neighbour's bytes and stay. On a read-only file mapping this only drops them from the resident set.
    private static void ReleasePages(byte* data, long length)
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) return;
        long page = Environment.SystemPageSize, start = ((long)data + page - 1) / page * page, end = ((long)data + length) / page * page;
        if (end > start) _ = madvise((void*)start, (nuint)(end - start), MadviseDontNeed);
    }

    private const int MadviseDontNeed = 4; // MADV_DONTNEED on Linux and macOS

    [LibraryImport("libc")]
    private static partial int madvise(void* address, nuint length, int advice);

    private SafeTensorsEntry Entry(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _entries.TryGetValue(name, out SafeTensorsEntry? e) ? e : throw new KeyNotFoundException($"{_path}: no tensor named '{name}'");
    }

    /// <summary>Unmaps the file.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
