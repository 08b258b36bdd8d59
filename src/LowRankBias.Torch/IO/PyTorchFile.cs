using System.IO.Compression;
using System.Runtime.InteropServices;
using static LowRankBias.Torch.Native.NativeMethods;

namespace LowRankBias.Torch.IO;

/// <summary>
/// Reads files written by <c>torch.save</c> (<c>.pt</c>, <c>.pth</c>, <c>.bin</c>): the zip archive of PyTorch 1.6
/// and later, whose <c>data.pkl</c> pickles the saved object and whose <c>data/&lt;key&gt;</c> records hold the
/// tensors' storages. The pickle is read by a restricted unpickler — PyTorch's <c>weights_only=True</c> — that
/// accepts tensors, OrderedDict/dict/list/tuple and primitive values and refuses every other global with an
/// <see cref="InvalidDataException"/>: loading never executes anything and never writes a file.
/// </summary>
/// <remarks>
/// Tensors come back as in PyTorch: views of their storage with the saved offset, shape and strides (tensors that
/// shared a storage still share it), on the CPU unless <c>map_location</c> says otherwise. Python values map to
/// None → null, bool, int → long, float → double, str → string, bytes → byte[], tuple → object?[],
/// list → List&lt;object?&gt;, dict and OrderedDict → OrderedDictionary&lt;object, object?&gt;. A hostile file cannot
/// make the reader allocate beyond what its size allows (docs/architecture.md lists the limits): the saved object is
/// acyclic and nested at most 1000 deep, and no tensor addresses more elements than its storage holds.
/// </remarks>
public static class PyTorchFile
{
    private const long MaxPickleBytes = 1L << 30;
    // Deflate encodes at most 258 bytes in 2 bits: a record declaring more than this many bytes per compressed byte lies.
    private const long MaxInflation = 1032;
    private const int MaxByteOrderBytes = 16;
    private const int Chunk = 1 << 30;
    private static readonly string[] s_stateDictKeys = ["state_dict", "model_state_dict", "model", "module"];

    private static readonly Dictionary<string, ScalarType> s_storages = new()
    {
        ["FloatStorage"] = ScalarType.Float32, ["DoubleStorage"] = ScalarType.Float64, ["HalfStorage"] = ScalarType.Float16,
        ["BFloat16Storage"] = ScalarType.BFloat16, ["LongStorage"] = ScalarType.Int64, ["IntStorage"] = ScalarType.Int32,
        ["ShortStorage"] = ScalarType.Int16, ["CharStorage"] = ScalarType.Int8, ["ByteStorage"] = ScalarType.Byte,
        ["BoolStorage"] = ScalarType.Bool,
    };

    /// <summary>The object saved in the file at <paramref name="path"/>, its tensors placed on <paramref name="map_location"/> (CPU by default).</summary>
    public static object? load(string path, Device? map_location = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream file = WeightFile.Open(path);
        return new Reader(file, path, map_location ?? Device.CPU).Load();
    }

    /// <summary>
    /// Writes <paramref name="state_dict"/> as <c>torch.save(OrderedDict)</c> does — a zip archive (stored, not compressed)
    /// with a protocol-2 <c>data.pkl</c> and one storage record per tensor — atomically, so that PyTorch's
    /// <c>torch.load(path)</c> (also with <c>weights_only=True</c>) reads it. Tensors are written contiguous, from the CPU.
    /// </summary>
    public static void save(IReadOnlyDictionary<string, Tensor> state_dict, string path)
    {
        ArgumentNullException.ThrowIfNull(state_dict);
        ArgumentException.ThrowIfNullOrEmpty(path);
        foreach ((string name, Tensor t) in state_dict)
            if (t is null || !s_storages.ContainsValue(t.dtype)) throw new ArgumentException($"tensor '{name}' is null or of a type torch.save storages cannot hold", nameof(state_dict));
        AtomicFile.Write(path, stream => PyTorchFileWriter.Write(stream, state_dict, s_storages.ToDictionary(p => p.Value, p => p.Key)));
    }

    /// <summary>
    /// The tensors of the state dict saved in <paramref name="path"/>, by name: the saved object itself when it is a
    /// dict of tensors, else the dict of tensors under one of the keys "state_dict", "model_state_dict", "model" or
    /// "module" (as training scripts save checkpoints). Every other tensor in the file is freed.
    /// </summary>
    public static Dictionary<string, Tensor> load_state_dict(string path, Device? map_location = null)
    {
        object? root = load(path, map_location);
        var found = StateDict(root);
        var result = found?.ToDictionary(p => (string)p.Key, p => (Tensor)p.Value!, StringComparer.Ordinal);
        var kept = new HashSet<Tensor>(result?.Values ?? Enumerable.Empty<Tensor>(), ReferenceEqualityComparer.Instance);
        foreach (Tensor t in PickleGraph.Values(root).OfType<Tensor>().Where(t => !kept.Contains(t))) t.Dispose();
        return result ?? throw new InvalidDataException($"{path}: holds no state dict: the saved {RestrictedUnpickler.Describe(root)} " +
            (root is OrderedDictionary<object, object?> d ? $"has the keys [{string.Join(", ", d.Keys)}] and " : "") +
            $"is neither a dict of tensors nor holds one under {string.Join(", ", s_stateDictKeys.Select(k => $"'{k}'"))}");
    }

    private static OrderedDictionary<object, object?>? StateDict(object? root)
    {
        static bool IsStateDict(object? o) => o is OrderedDictionary<object, object?> d && d.All(p => p.Key is string && p.Value is Tensor);
        if (IsStateDict(root)) return (OrderedDictionary<object, object?>)root!;
        if (root is not OrderedDictionary<object, object?> dict) return null;
        foreach (string key in s_stateDictKeys)
            if (dict.TryGetValue(key, out object? inner) && IsStateDict(inner)) return (OrderedDictionary<object, object?>)inner!;
        return null;
    }

    /// <summary>One load: the archive, its storages (each read once) and the tensors made so far (freed on failure).</summary>
    private sealed class Reader(FileStream file, string source, Device device)
    {
        private readonly Dictionary<string, Tensor> _storages = [];
        private readonly List<Tensor> _tensors = [];
        private readonly List<Tensor> _moved = [];
        private ZipArchive _zip = null!;
        private string _prefix = "";

        private InvalidDataException Invalid(string problem) => new($"{source}: {problem}");

        internal object? Load()
        {
            CheckMagic();
            try { _zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true); }
            catch (InvalidDataException e) { throw Invalid($"not a readable zip archive (truncated or corrupt): {e.Message}"); }
            try
            {
                using (_zip)
                {
                    byte[] pickle = ReadPickle();
                    object? root = RestrictedUnpickler.Load(pickle, $"{source} ({_prefix}data.pkl)", Resolve, PersistentLoad);
                    if (device.Type == DeviceType.CPU) return root;
                    object? moved = MoveTo(root);
                    foreach (Tensor t in _tensors) t.Dispose();
                    return moved;
                }
            }
            catch
            {
                foreach (Tensor t in _tensors.Concat(_moved)) t.Dispose();
                throw;
            }
            finally
            {
                foreach (Tensor s in _storages.Values) s.Dispose();
            }
        }

        private void CheckMagic()
        {
            if (WeightFile.Detect(file, source) == WeightFormat.SafeTensors)
                throw Invalid("is a safetensors file, not a torch.save zip archive (read it with SafeTensors.load_file)");
            Span<byte> magic = stackalloc byte[4];
            int read = file.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
            file.Position = 0;
            if (read == 4 && magic.SequenceEqual("PK\x03\x04"u8)) return;
            throw Invalid($"is not a torch.save zip archive (it starts with {Convert.ToHexString(magic[..read])}, not the zip signature 504B0304)");
        }

        private byte[] ReadPickle()
        {
            var pickles = _zip.Entries.Where(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal)
                && e.FullName.Count(c => c == '/') == 1 && e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)).ToList();
            if (pickles.Count != 1)
            {
                bool script = _zip.Entries.Any(e => e.FullName.EndsWith("/constants.pkl", StringComparison.Ordinal));
                throw Invalid(script ? "is a TorchScript archive (torch.jit.save), not a torch.save file; save its state_dict() instead"
                    : $"holds {pickles.Count} '<archive>/data.pkl' records, not one");
            }
            _prefix = pickles[0].FullName[..^"data.pkl".Length];
            ZipArchiveEntry? order = _zip.GetEntry(_prefix + "byteorder");
            if (order is not null && Encoding(ReadSmall(order, MaxByteOrderBytes, "a byte order ('little' or 'big') needs")) is not "little")
                throw Invalid("stores its tensors big-endian, which is not read");
            // torch.save stores data.pkl uncompressed, so it is never larger than the file; a pickle that inflates
            // beyond that is a decompression bomb (every pickle byte can build a value).
            return file.Length <= MaxPickleBytes
                ? ReadSmall(pickles[0], file.Length, "the whole file holds: torch.save stores data.pkl uncompressed (a decompression bomb?)")
                : ReadSmall(pickles[0], MaxPickleBytes, "are read");
        }

        private static string Encoding(byte[] bytes) => System.Text.Encoding.ASCII.GetString(bytes).Trim();

        private byte[] ReadSmall(ZipArchiveEntry entry, long maxBytes, string limit)
        {
            if (Declared(entry) > maxBytes) throw Invalid($"record '{entry.FullName}' declares {entry.Length} bytes, more than the {maxBytes} {limit}");
            var bytes = new byte[entry.Length];
            using Stream s = OpenEntry(entry);
            Guarded(entry, () => s.ReadExactly(bytes));
            if (Guarded(entry, s.ReadByte) != -1) throw Invalid($"record '{entry.FullName}' holds more than the {bytes.Length} bytes it declares");
            return bytes;
        }

        private Stream OpenEntry(ZipArchiveEntry entry) => Guarded(entry, entry.Open);

        /// <summary>The record's declared size, refused when its compressed bytes could not inflate to it (a lying zip64 header).</summary>
        private long Declared(ZipArchiveEntry entry)
        {
            if (entry.CompressedLength > file.Length)
                throw Invalid($"record '{entry.FullName}' declares {entry.CompressedLength} compressed bytes, more than the {file.Length}-byte file holds");
            if (entry.Length / MaxInflation > entry.CompressedLength)
                throw Invalid($"record '{entry.FullName}' declares {entry.Length} bytes, but its {entry.CompressedLength} compressed bytes " +
                    $"can hold at most {entry.CompressedLength * MaxInflation} (corrupt, or a zip bomb)");
            return entry.Length;
        }

        // A damaged archive surfaces as EndOfStream/IO/InvalidData exceptions from System.IO.Compression: name the record.
        private T Guarded<T>(ZipArchiveEntry entry, Func<T> read)
        {
            try { return read(); }
            catch (Exception e) when (IsDamage(e)) { throw Damaged(entry, e); }
        }

        private bool IsDamage(Exception e) => e is IOException or InvalidDataException && !e.Message.StartsWith(source, StringComparison.Ordinal);

        private InvalidDataException Damaged(ZipArchiveEntry entry, Exception e) =>
            Invalid($"record '{entry.FullName}' cannot be read (truncated or corrupt): {e.Message}");

        private void Guarded(ZipArchiveEntry entry, Action read) => Guarded(entry, () => { read(); return 0; });

        private PickleGlobal? Resolve(string module, string name) => (module, name) switch
        {
            ("collections", "OrderedDict") => new(module, name, OrderedDict),
            ("torch._utils", "_rebuild_tensor_v2") => new(module, name, RebuildTensor),
            ("torch._utils", "_rebuild_parameter") or ("torch._utils", "_rebuild_parameter_with_state") => new(module, name, RebuildParameter),
            ("_codecs", "encode") => new(module, name, EncodeBytes),
            ("torch", _) when s_storages.ContainsKey(name) => new(module, name),
            _ => null,
        };

        private static object? OrderedDict(object?[] args)
        {
            if (args.Length == 0) return new OrderedDictionary<object, object?>();
            throw new ArgumentException("only the empty OrderedDict() is built this way (its items come by SETITEMS)");
        }

        // Python 2-protocol pickles spell bytes as _codecs.encode(text, "latin1").
        private static object? EncodeBytes(object?[] args) => args is [string text, "latin1" or "latin-1"]
            ? System.Text.Encoding.Latin1.GetBytes(text) : throw new ArgumentException("expects (str, 'latin1')");

        // persistent id: ("storage", storage type, key, location, numel)
        private object? PersistentLoad(object? pid)
        {
            if (pid is not object?[] { Length: 5 } t || t[0] is not "storage" || t[1] is not PickleGlobal type || t[2] is not string key || t[4] is not long numel)
                throw Invalid($"persistent id {RestrictedUnpickler.Describe(pid)} is not ('storage', type, key, location, numel)");
            if (_storages.TryGetValue(key, out Tensor? cached)) return cached;
            ScalarType dtype = s_storages[type.Name];
            string name = $"{_prefix}data/{key}";
            ZipArchiveEntry entry = _zip.GetEntry(name) ?? throw Invalid($"storage record '{name}' is missing");
            long bytes;
            try { bytes = checked(numel * dtype.ElementSize()); }
            catch (OverflowException) { throw Invalid($"storage '{key}' claims {numel} elements, too many"); }
            if (numel < 0 || bytes != Declared(entry))
                throw Invalid($"storage '{key}' claims {numel} {type.Name} elements ({bytes} bytes) but its record holds {entry.Length} bytes");
            Tensor storage = ReadStorage(entry, bytes, numel, dtype);
            _storages.Add(key, storage);
            return storage;
        }

        private unsafe Tensor ReadStorage(ZipArchiveEntry entry, long bytes, long numel, ScalarType dtype)
        {
            byte* buffer = (byte*)NativeMemory.Alloc((nuint)Math.Max(bytes, 1));
            try
            {
                using (Stream s = OpenEntry(entry))
                {
                    for (long done = 0; done < bytes; done += Chunk)
                    {
                        var piece = new Span<byte>(buffer + done, (int)Math.Min(Chunk, bytes - done));
                        try { s.ReadExactly(piece); }
                        catch (Exception e) when (IsDamage(e)) { throw Damaged(entry, e); }
                        // Any byte but 0 and 1 would be an invalid bool inside libtorch.
                        if (dtype == ScalarType.Bool && piece.IndexOfAnyExcept((byte)0, (byte)1) is int bad and >= 0)
                            throw Invalid($"bool storage '{entry.FullName}' holds the byte {piece[bad]} at {done + bad}, not 0 or 1");
                    }
                    if (Guarded(entry, s.ReadByte) != -1) throw Invalid($"record '{entry.FullName}' holds more than the {bytes} bytes it declares");
                }
                long shape = numel;
                Check(lrb_tensor_from_data(buffer, bytes, &shape, 1, (int)dtype, (int)DeviceType.CPU, -1, 0, out IntPtr handle));
                return new Tensor(handle);
            }
            finally
            {
                NativeMemory.Free(buffer);
            }
        }

        // torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        private object? RebuildTensor(object?[] args)
        {
            if (args.Length is not (6 or 7) || args[0] is not Tensor storage || args[1] is not long offset || args[2] is not object?[] size
                || args[3] is not object?[] stride || args[4] is not bool requiresGrad || size.Length != stride.Length)
                throw new ArgumentException("expects (storage, offset, size tuple, stride tuple of the same length, requires_grad, hooks[, metadata])");
            if (args[5] is OrderedDictionary<object, object?> { Count: > 0 }) throw new ArgumentException("backward hooks cannot be loaded");
            long[] sizes = size.Select(v => v is long n and >= 0 ? n : throw new ArgumentException("sizes must be non-negative ints")).ToArray();
            long[] strides = stride.Select(v => v is long n and >= 0 ? n : throw new ArgumentException("strides must be non-negative ints")).ToArray();
            long numel = storage.size(0);
            if (offset < 0 || offset > numel) throw new ArgumentException($"offset {offset} lies outside the storage of {numel} elements");
            if (sizes.All(n => n > 0))
            {
                long last = offset;
                for (int i = 0; i < sizes.Length; i++) last = checked(last + (sizes[i] - 1) * strides[i]);
                if (last >= numel) throw new ArgumentException($"shape [{string.Join(", ", sizes)}] with strides [{string.Join(", ", strides)}] at offset {offset} reaches element {last} of a {numel}-element storage");
            }
            // torch.save keeps expanded (stride-0) views as views; one addressing more elements than its storage holds
            // would claim memory the file never had (a 1-float storage read as 10^12 elements), so it is refused.
            long elements;
            try { elements = sizes.Aggregate(1L, (n, d) => checked(n * d)); }
            catch (OverflowException) { throw new ArgumentException($"the sizes [{string.Join(", ", sizes)}] multiply past 2^63 (libtorch refuses them, even with a 0)"); }
            if (elements > numel)
                throw new ArgumentException($"a view of shape [{string.Join(", ", sizes)}] with strides [{string.Join(", ", strides)}] has {elements} elements, " +
                    $"more than the {numel} its storage holds (an expanded tensor); save it as t.contiguous() or t.clone()");
            Tensor view = s_asStrided.Call(storage, sizes, strides, offset);
            _tensors.Add(view);
            if (requiresGrad) view.requires_grad = true;
            return view;
        }

        private static object? RebuildParameter(object?[] args)
        {
            if (args.Length < 3 || args[0] is not Tensor data || args[1] is not bool requiresGrad)
                throw new ArgumentException("expects (tensor, requires_grad, hooks[, state])");
            if (args.Length > 3 && args[3] is OrderedDictionary<object, object?> { Count: > 0 }) throw new ArgumentException("parameter state cannot be loaded");
            data.requires_grad = requiresGrad;
            return data;
        }

        // Copies the containers once each, so values the memo shared stay shared (a tree copy of a DAG grows as 2^depth).
        private object? MoveTo(object? root)
        {
            var copies = new Dictionary<object, object>(ReferenceEqualityComparer.Instance);
            foreach (object? value in PickleGraph.Values(root))
            {
                switch (value)
                {
                    case Tensor t: copies[t] = Moved(t); break;
                    case object?[] tuple: copies[tuple] = new object?[tuple.Length]; break;
                    case List<object?> list: copies[list] = new List<object?>(list.Count); break;
                    case OrderedDictionary<object, object?>: copies[value] = new OrderedDictionary<object, object?>(); break;
                }
            }
            object? Copy(object? v) => v is not null && copies.TryGetValue(v, out object? c) ? c : v;
            foreach ((object original, object copy) in copies)
            {
                switch (original)
                {
                    case object?[] tuple: for (int i = 0; i < tuple.Length; i++) ((object?[])copy)[i] = Copy(tuple[i]); break;
                    case List<object?> list: ((List<object?>)copy).AddRange(list.Select(Copy)); break;
                    case OrderedDictionary<object, object?> dict: foreach (var (k, v) in dict) ((OrderedDictionary<object, object?>)copy).Add(k, Copy(v)); break;
                }
            }
            return Copy(root);
        }

        private Tensor Moved(Tensor t)
        {
            using Tensor detached = t.detach();
            Tensor moved = detached.to(device).requires_grad_(t.requires_grad);
            _moved.Add(moved);
            return moved;
        }
    }

    private static readonly Op s_asStrided = new("aten::as_strided");
}
