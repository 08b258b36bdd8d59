using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace LowRankBias.Torch.IO;

/// <summary>A global (module, name) the caller allows: a value REDUCE may call, or a plain marker (a storage type).</summary>
internal sealed record PickleGlobal(string Module, string Name, Func<object?[], object?>? Call = null)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>
/// A pickle interpreter (protocols 2–5, the binary opcodes) that builds data and nothing else, like PyTorch's
/// <c>weights_only</c> unpickler: None, bool, int (64-bit), float, str, bytes, tuple (<c>object?[]</c>), list
/// (<c>List&lt;object?&gt;</c>), dict (<c>OrderedDictionary&lt;object, object?&gt;</c>), plus whatever the
/// caller's allowed globals return when REDUCE calls them. Any other global, and every opcode that would create an
/// instance of a class (NEWOBJ, INST, OBJ, extension codes), is refused with an <see cref="InvalidDataException"/>
/// before anything runs. Every length is checked against the bytes that remain, so a hostile size cannot allocate;
/// the memo holds at most one entry per value built (a pickler memoizes each value once), and the result is checked
/// to be acyclic and nested at most <see cref="PickleGraph.MaxDepth"/> deep, so callers may walk it freely.
/// </summary>
internal sealed class RestrictedUnpickler
{
    private const int MaxStack = 1_000_000;
    private readonly byte[] _data;
    private readonly string _source;
    private readonly Func<string, string, PickleGlobal?> _resolve;
    private readonly Func<object?, object?> _persistentLoad;
    private readonly List<object?> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Dictionary<long, object?> _memo = [];
    private int _pos;
    private long _built;

    private RestrictedUnpickler(byte[] data, string source, Func<string, string, PickleGlobal?> resolve, Func<object?, object?> persistentLoad)
    {
        _data = data;
        _source = source;
        _resolve = resolve;
        _persistentLoad = persistentLoad;
    }

    /// <summary>The object <paramref name="data"/> pickles. <paramref name="resolve"/> returns the allowed global of
    /// a (module, name), or null to refuse it; <paramref name="persistentLoad"/> turns a persistent id into a value.</summary>
    internal static object? Load(byte[] data, string source, Func<string, string, PickleGlobal?> resolve, Func<object?, object?> persistentLoad) =>
        new RestrictedUnpickler(data, source, resolve, persistentLoad).Run();

    private InvalidDataException Invalid(string problem) => new($"{_source}: {problem}");

    private object? Run()
    {
        while (true)
        {
            if (_pos >= _data.Length) throw Invalid($"the pickle ends at byte {_pos} without a STOP opcode (truncated)");
            int at = _pos;
            byte op = _data[_pos++];
            switch (op)
            {
                case 0x80: ReadBytes(1); break;                                       // PROTO
                case 0x95: ReadBytes(8); break;                                       // FRAME (framing only)
                case 0x2e:                                                           // STOP
                    if (_stack.Count != 1 || _marks.Count != 0) throw Invalid($"STOP at byte {at} leaves {_stack.Count} values on the stack");
                    return PickleGraph.Problem(_stack[0]) is { } problem ? throw Invalid(problem) : _stack[0];
                case 0x28: _marks.Add(_stack.Count); break;                           // MARK
                case 0x30: Pop(); break;                                              // POP
                case 0x31: PopMark(); break;                                          // POP_MARK
                case 0x32: Share(Peek()); break;                                      // DUP
                case 0x4e: Push(null); break;                                         // NONE
                case 0x88: Push(true); break;                                         // NEWTRUE
                case 0x89: Push(false); break;                                        // NEWFALSE
                case 0x4a: Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))); break;  // BININT
                case 0x4b: Push((long)ReadBytes(1)[0]); break;                        // BININT1
                case 0x4d: Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2))); break; // BININT2
                case 0x8a: Push(Long(ReadBytes(ReadBytes(1)[0]))); break;             // LONG1
                case 0x8b: Push(Long(ReadBytes(Length(4)))); break;                   // LONG4
                case 0x47: Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8))); break; // BINFLOAT
                case 0x58: Push(Utf8(ReadBytes(Length(4)))); break;                   // BINUNICODE
                case 0x8c: Push(Utf8(ReadBytes(ReadBytes(1)[0]))); break;             // SHORT_BINUNICODE
                case 0x8d: Push(Utf8(ReadBytes(Length(8)))); break;                   // BINUNICODE8
                case 0x42: Push(ReadBytes(Length(4)).ToArray()); break;               // BINBYTES
                case 0x43: Push(ReadBytes(ReadBytes(1)[0]).ToArray()); break;         // SHORT_BINBYTES
                case 0x8e: Push(ReadBytes(Length(8)).ToArray()); break;               // BINBYTES8
                case 0x54: Push(Latin1(ReadBytes(Length(4)))); break;                 // BINSTRING (Python 2 str)
                case 0x55: Push(Latin1(ReadBytes(ReadBytes(1)[0]))); break;           // SHORT_BINSTRING
                case 0x29: Push(Array.Empty<object?>()); break;                       // EMPTY_TUPLE
                case 0x85: Push(new[] { Pop() }); break;                              // TUPLE1
                case 0x86: { object? b = Pop(), a = Pop(); Push(new[] { a, b }); break; }             // TUPLE2
                case 0x87: { object? c = Pop(), b = Pop(), a = Pop(); Push(new[] { a, b, c }); break; } // TUPLE3
                case 0x74: Push(PopMark().ToArray()); break;                          // TUPLE
                case 0x5d: Push(new List<object?>()); break;                          // EMPTY_LIST
                case 0x6c: Push(PopMark()); break;                                    // LIST
                case 0x61: { object? item = Pop(); ListAt(Peek(), "APPEND").Add(item); break; }       // APPEND
                case 0x65: { var items = PopMark(); ListAt(Peek(), "APPENDS").AddRange(items); break; } // APPENDS
                case 0x7d: Push(new OrderedDictionary<object, object?>()); break;     // EMPTY_DICT
                case 0x64: { var items = PopMark(); var d = new OrderedDictionary<object, object?>(); SetItems(d, items); Push(d); break; } // DICT
                case 0x73: { object? v = Pop(), k = Pop(); SetItems(DictAt(Peek(), "SETITEM"), [k, v]); break; } // SETITEM
                case 0x75: { var items = PopMark(); SetItems(DictAt(Peek(), "SETITEMS"), items); break; }        // SETITEMS
                case 0x71: Memoize(ReadBytes(1)[0]); break;                           // BINPUT
                case 0x72: Memoize(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))); break; // LONG_BINPUT
                case 0x94: Memoize(_memo.Count); break;                               // MEMOIZE
                case 0x68: Share(Memo(ReadBytes(1)[0])); break;                       // BINGET
                case 0x6a: Share(Memo(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)))); break; // LONG_BINGET
                case 0x63: Push(Global(Line(), Line())); break;                       // GLOBAL
                case 0x93: { object? name = Pop(), module = Pop(); Push(Global(Text(module, "STACK_GLOBAL"), Text(name, "STACK_GLOBAL"))); break; }
                case 0x52: { object? args = Pop(), callable = Pop(); Push(Reduce(callable, args)); break; } // REDUCE
                case 0x62: { object? state = Pop(); Build(Peek(), state); break; }    // BUILD
                case 0x51: Push(_persistentLoad(Pop())); break;                       // BINPERSID
                case 0x81 or 0x92 or 0x69 or 0x6f or 0x82 or 0x83 or 0x84:
                    throw Invalid($"refuses opcode 0x{op:x2} at byte {at}: it creates an instance of a class, which a weights-only load never does");
                default:
                    throw Invalid($"unsupported pickle opcode 0x{op:x2} ('{(op is >= 0x20 and < 0x7f ? (char)op : '?')}') at byte {at} " +
                        "(only the binary opcodes of protocols 2-5 are read, as torch.save writes them)");
            }
            if (_stack.Count > MaxStack) throw Invalid($"the pickle stack grew beyond {MaxStack} values");
        }
    }

    private ReadOnlySpan<byte> ReadBytes(long count)
    {
        if (count < 0 || count > _data.Length - _pos)
            throw Invalid($"a length of {count} bytes at byte {_pos} runs past the end of the {_data.Length}-byte pickle (truncated or corrupt)");
        var span = new ReadOnlySpan<byte>(_data, _pos, (int)count);
        _pos += (int)count;
        return span;
    }

    private long Length(int width)
    {
        ReadOnlySpan<byte> raw = ReadBytes(width);
        ulong n = width == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(raw) : BinaryPrimitives.ReadUInt64LittleEndian(raw);
        if (n > (ulong)(_data.Length - _pos))
            throw Invalid($"a length of {n} bytes at byte {_pos - width} runs past the end of the {_data.Length}-byte pickle (truncated or corrupt)");
        return (long)n;
    }

    private long Long(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > 8) throw Invalid($"an integer of {bytes.Length} bytes does not fit in 64 bits");
        return (long)new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
    }

    private string Utf8(ReadOnlySpan<byte> bytes)
    {
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); }
        catch (DecoderFallbackException) { throw Invalid($"a string before byte {_pos} is not valid UTF-8"); }
    }

    private static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    private string Line()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0 || end - _pos > 1024) throw Invalid($"GLOBAL at byte {_pos - 1} has no name line (truncated or corrupt)");
        string text = Encoding.ASCII.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return text;
    }

    private string Text(object? value, string opcode) => value as string ?? throw Invalid($"{opcode} expects strings, found {Describe(value)}");

    private void Push(object? value)
    {
        _built++;
        _stack.Add(value);
    }

    /// <summary>Pushes a value already built (DUP, a memo read).</summary>
    private void Share(object? value) => _stack.Add(value);

    // Python's pickler memoizes each value once, so more entries than values built is a memo bomb: 1 MB of MEMOIZE
    // opcodes would otherwise fill a million-entry memo with one value.
    private void Memoize(long key)
    {
        _memo[key] = Peek();
        if (_memo.Count > _built)
            throw Invalid($"memoizes more values ({_memo.Count}) than it has built ({_built}) at byte {_pos - 1}: a pickler memoizes each value once");
    }

    private object? Peek() => _stack.Count > (_marks.Count > 0 ? _marks[^1] : 0) ? _stack[^1] : throw Invalid($"stack underflow at byte {_pos - 1}");

    private object? Pop()
    {
        object? value = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private List<object?> PopMark()
    {
        if (_marks.Count == 0) throw Invalid($"an opcode at byte {_pos - 1} needs a MARK that is not there");
        int start = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        List<object?> items = _stack.GetRange(start, _stack.Count - start);
        _stack.RemoveRange(start, _stack.Count - start);
        return items;
    }

    private object? Memo(long key) => _memo.TryGetValue(key, out object? value) ? value : throw Invalid($"memo entry {key} is read before it is written");

    private List<object?> ListAt(object? target, string opcode) => target as List<object?> ?? throw Invalid($"{opcode} on {Describe(target)}, not a list");

    private OrderedDictionary<object, object?> DictAt(object? target, string opcode) =>
        target as OrderedDictionary<object, object?> ?? throw Invalid($"{opcode} on {Describe(target)}, not a dict");

    private void SetItems(OrderedDictionary<object, object?> dict, List<object?> items)
    {
        if (items.Count % 2 != 0) throw Invalid($"a dict at byte {_pos - 1} gets an odd number ({items.Count}) of keys and values");
        for (int i = 0; i < items.Count; i += 2)
        {
            object key = items[i] is string or long or bool or double ? items[i]! : throw Invalid($"dict key of type {Describe(items[i])} is not supported (str, int, bool and float keys are)");
            dict[key] = items[i + 1];
        }
    }

    private PickleGlobal Global(string module, string name) =>
        _resolve(module, name) ?? throw Invalid($"refuses the global '{module}.{name}': a weights-only load accepts tensors, " +
            "OrderedDict/dict/list/tuple and primitive values, never other Python objects or functions (nothing is executed)");

    private object? Reduce(object? callable, object? args)
    {
        if (callable is not PickleGlobal { Call: { } call } global) throw Invalid($"REDUCE calls {Describe(callable)}, which cannot be called");
        if (args is not object?[] tuple) throw Invalid($"REDUCE of {callable} takes a tuple of arguments, not {Describe(args)}");
        try { return call(tuple); }
        catch (Exception e) when (e is ArgumentException or InvalidCastException or IndexOutOfRangeException or OverflowException)
        {
            throw Invalid($"{global}({string.Join(", ", tuple.Select(Describe))}): {e.Message}");
        }
    }

    // PyTorch's state dicts pickle an OrderedDict with its `_metadata` attribute (module versions) as BUILD state;
    // like PyTorch's weights-only unpickler we accept that on dicts and drop it, and refuse BUILD on anything else.
    private void Build(object? target, object? state)
    {
        if (target is OrderedDictionary<object, object?>) return;
        if (target is Tensor && state is null or OrderedDictionary<object, object?> { Count: 0 }) return;
        throw Invalid($"BUILD sets the state of {Describe(target)}, which a weights-only load refuses");
    }

    internal static string Describe(object? value) => value switch
    {
        null => "None",
        string => "str",
        long => "int",
        double => "float",
        bool => "bool",
        byte[] => "bytes",
        object?[] => "tuple",
        List<object?> => "list",
        OrderedDictionary<object, object?> => "dict",
        PickleGlobal g => $"the global {g}",
        Tensor => "tensor",
        _ => value.GetType().Name,
    };
}
