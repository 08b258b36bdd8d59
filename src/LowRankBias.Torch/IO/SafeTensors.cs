using System.Buffers.Binary;
using System.Runtime.InteropServices;
using static LowRankBias.Torch.Native.NativeMethods;

namespace LowRankBias.Torch.IO;

/// <summary>
/// Reads and writes the safetensors format (as Python's <c>safetensors.torch</c>): an 8-byte little-endian header
/// length, a JSON header naming each tensor's dtype, shape and byte range, then the tensors' bytes, row-major and
/// little-endian. Files are written atomically (<see cref="AtomicFile"/>); a malformed file raises an
/// <see cref="InvalidDataException"/> naming the file and the problem.
/// </summary>
public static class SafeTensors
{
    private const string BufferSource = "safetensors buffer";
    // Host transfers go through native memory in pieces small enough for a Span, so tensors may exceed 2 GiB.
    private const int Chunk = 1 << 30;
    // As the reference implementation (safetensors' MAX_HEADER_SIZE): the JSON header is parsed whole, in memory.
    private const long MaxHeaderBytes = 100_000_000;

    /// <summary>Writes <paramref name="tensors"/> (from any device) and optional string metadata to <paramref name="path"/>, atomically.</summary>
    public static void save_file(IReadOnlyDictionary<string, Tensor> tensors, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var (header, ordered) = Plan(tensors, metadata);
        AtomicFile.Write(path, stream => Write(stream, header, ordered));
    }

    /// <summary>The safetensors encoding of <paramref name="tensors"/> and optional metadata, in memory.</summary>
    public static byte[] save(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var (header, ordered) = Plan(tensors, metadata);
        using var memory = new MemoryStream();
        Write(memory, header, ordered);
        return memory.ToArray();
    }

    /// <summary>Every tensor in the file at <paramref name="path"/>, by name, placed on <paramref name="device"/> (CPU by default).</summary>
    public static Dictionary<string, Tensor> load_file(string path, Device? device = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream file = OpenRead(path);
        return Load(file, path, device ?? Device.CPU);
    }

    /// <summary>Every tensor encoded in <paramref name="data"/>, by name, placed on <paramref name="device"/> (CPU by default).</summary>
    public static Dictionary<string, Tensor> load(byte[] data, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var memory = new MemoryStream(data, writable: false);
        return Load(memory, BufferSource, device ?? Device.CPU);
    }

    /// <summary>The <c>__metadata__</c> string map of the file at <paramref name="path"/> (empty when it has none); reads only the header.</summary>
    public static Dictionary<string, string> load_metadata(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream file = OpenRead(path);
        return ReadHeader(file, path, out _).Metadata;
    }

    /// <summary>Opens the file at <paramref name="path"/> memory-mapped, to read its tensors one at a time (Python's <c>safe_open</c>).</summary>
    public static SafeTensorsReader safe_open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new SafeTensorsReader(path);
    }

    internal static FileStream OpenRead(string path) => WeightFile.Open(path, bufferSize: 0);

    private static (SafeTensorsHeader Header, Tensor[] Ordered) Plan(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        foreach (var (name, tensor) in tensors)
            if (tensor is null) throw new ArgumentException($"tensor '{name}' is null", nameof(tensors));
        SafeTensorsHeader header = SafeTensorsHeader.Plan(tensors.Select(p => (p.Key, p.Value.dtype, p.Value.shape)), metadata);
        return (header, header.Entries.Select(e => tensors[e.Name]).ToArray());
    }

    private static unsafe void Write(Stream stream, SafeTensorsHeader header, Tensor[] ordered)
    {
        byte[] json = header.ToBytes();
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)json.Length);
        stream.Write(length);
        stream.Write(json);
        for (int i = 0; i < ordered.Length; i++)
        {
            long size = header.Entries[i].Length;
            if (size == 0) continue;
            byte* buffer = (byte*)NativeMemory.Alloc((nuint)size);
            try
            {
                // Copies to host, contiguous, in the CPU's (little-endian) byte order.
                Check(lrb_tensor_to_host(ordered[i].Handle, buffer, size));
                GC.KeepAlive(ordered[i]);
                for (long done = 0; done < size; done += Chunk)
                    stream.Write(new ReadOnlySpan<byte>(buffer + done, (int)Math.Min(Chunk, size - done)));
            }
            finally
            {
                NativeMemory.Free(buffer);
            }
        }
    }

    internal static SafeTensorsHeader ReadHeader(Stream stream, string source, out long dataStart)
    {
        if (WeightFile.Detect(stream, source) == WeightFormat.TorchSave)
            throw SafeTensorsHeader.Invalid(source, "is a torch.save zip archive, not a safetensors file (read it with PyTorchFile.load)");
        long total = stream.Length;
        if (total < 8) throw SafeTensorsHeader.Invalid(source, $"truncated: {total} bytes, too short to hold the 8-byte header length");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(total - 8))
            throw SafeTensorsHeader.Invalid(source, $"header length {headerLength} is larger than the {total - 8} bytes that follow it (truncated or not a safetensors file)");
        if (headerLength > MaxHeaderBytes)
            throw SafeTensorsHeader.Invalid(source, $"header length {headerLength} is more than the {MaxHeaderBytes} bytes a safetensors header may have");
        byte[] json = new byte[headerLength];
        stream.ReadExactly(json);
        dataStart = 8 + (long)headerLength;
        return SafeTensorsHeader.Parse(json, total - dataStart, source);
    }

    private static Dictionary<string, Tensor> Load(Stream stream, string source, Device device)
    {
        device.EnsureAvailable();
        SafeTensorsHeader header = ReadHeader(stream, source, out long dataStart);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (SafeTensorsEntry e in header.Entries) result.Add(e.Name, ReadTensor(stream, dataStart, e, device, source));
        }
        catch
        {
            foreach (Tensor t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    private static unsafe Tensor ReadTensor(Stream stream, long dataStart, SafeTensorsEntry e, Device device, string source)
    {
        byte* buffer = (byte*)NativeMemory.Alloc((nuint)Math.Max(e.Length, 1));
        try
        {
            stream.Position = dataStart + e.Begin;
            for (long done = 0; done < e.Length; done += Chunk)
            {
                var piece = new Span<byte>(buffer + done, (int)Math.Min(Chunk, e.Length - done));
                stream.ReadExactly(piece);
                // Any byte but 0 and 1 would be an invalid bool inside libtorch.
                int bad = e.DType == ScalarType.Bool ? piece.IndexOfAnyExcept((byte)0, (byte)1) : -1;
                if (bad >= 0)
                    throw SafeTensorsHeader.Invalid(source, $"tensor '{e.Name}': BOOL element {done + bad} holds the byte {piece[bad]}, not 0 or 1");
            }
            IntPtr handle;
            fixed (long* shape = e.Shape)
                Check(lrb_tensor_from_data(buffer, e.Length, shape, e.Shape.Length, (int)e.DType, (int)device.Type, device.Index, 0, out handle));
            return new Tensor(handle);
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }
}
