using System.IO.Compression;
using System.Text;
using static LowRankBias.Torch.Native.NativeMethods;

namespace LowRankBias.Torch.IO;

/// <summary>
/// The torch.save zip layout for an OrderedDict of tensors: <c>archive/data.pkl</c> pickles
/// <c>OrderedDict([(name, _rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())), …])</c> with each storage
/// as the persistent id <c>('storage', torch.&lt;Type&gt;Storage, key, 'cpu', numel)</c>; <c>archive/data/&lt;key&gt;</c>
/// holds the storage's little-endian bytes; <c>archive/version</c> and <c>archive/byteorder</c> as PyTorch writes them.
/// </summary>
internal static class PyTorchFileWriter
{
    internal static void Write(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<ScalarType, string> storageNames)
    {
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        var pickle = new MemoryStream();
        pickle.Write([0x80, 0x02]);
        Global(pickle, "collections", "OrderedDict");
        pickle.Write([0x29, 0x52]);                                   // () REDUCE → OrderedDict()
        int key = 0;
        foreach ((string name, Tensor tensor) in tensors)
        {
            using var scope = torch.NewDisposeScope();
            Tensor data = tensor.detach().to(Device.CPU).contiguous();
            Str(pickle, name);
            Global(pickle, "torch._utils", "_rebuild_tensor_v2");
            pickle.WriteByte(0x28);                                   // MARK: the arguments
            pickle.WriteByte(0x28);                                   // MARK: the persistent id
            Str(pickle, "storage");
            Global(pickle, "torch", storageNames[data.dtype]);
            Str(pickle, key.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Str(pickle, "cpu");
            Int(pickle, data.numel());
            pickle.Write([0x74, 0x51]);                               // TUPLE BINPERSID
            Int(pickle, 0);                                           // storage offset
            Ints(pickle, data.shape);
            Ints(pickle, Strides(data.shape));
            pickle.WriteByte(0x89);                                   // requires_grad False
            Global(pickle, "collections", "OrderedDict");
            pickle.Write([0x29, 0x52]);                               // backward hooks: OrderedDict()
            pickle.Write([0x74, 0x52, 0x73]);                         // TUPLE REDUCE SETITEM
            Entry(zip, $"archive/data/{key++}", HostBytes(data));
        }
        pickle.WriteByte(0x2e);                                       // STOP
        Entry(zip, "archive/data.pkl", pickle.ToArray());
        Entry(zip, "archive/byteorder", "little"u8);
        Entry(zip, "archive/version", "3\n"u8);
    }

    // A contiguous CPU tensor's bytes in the CPU's (little-endian) order.
    private static unsafe byte[] HostBytes(Tensor data)
    {
        long size = checked(data.numel() * data.dtype.ElementSize());
        if (size > Array.MaxLength) throw new ArgumentException($"a tensor of {size} bytes is too large for one storage record here");
        var bytes = new byte[size];
        fixed (byte* pointer = bytes) Check(lrb_tensor_to_host(data.Handle, pointer, size));
        GC.KeepAlive(data);
        return bytes;
    }

    private static long[] Strides(long[] shape)
    {
        var strides = new long[shape.Length];
        long step = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { strides[i] = step; step *= Math.Max(shape[i], 1); }
        return strides;
    }

    private static void Entry(ZipArchive zip, string name, ReadOnlySpan<byte> data)
    {
        using Stream s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
        s.Write(data);
    }

    private static void Global(Stream s, string module, string name) { s.WriteByte(0x63); s.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n")); }

    private static void Str(Stream s, string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        s.WriteByte(0x58);
        s.Write(BitConverter.GetBytes(bytes.Length));
        s.Write(bytes);
    }

    private static void Int(Stream s, long value) { s.Write([0x8a, 8]); s.Write(BitConverter.GetBytes(value)); }

    private static void Ints(Stream s, long[] values)
    {
        s.WriteByte(0x28);
        foreach (long v in values) Int(s, v);
        s.WriteByte(0x74);
    }
}
