using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using LowRankBias.Torch.Native;
using static LowRankBias.Torch.Native.NativeMethods;

namespace LowRankBias.Torch;

/// <summary>
/// Any ATen operator, called through libtorch's boxed dispatcher (autograd included). The handle and schema
/// are looked up once, on first use. Trailing arguments left out take the schema's defaults. Arguments are
/// checked against the schema before the call, so a wrong type raises an <see cref="ArgumentException"/>
/// naming the operator and the argument.
/// <code>static readonly Op Add = new("aten::add", "Tensor");  var c = Add.Call(a, b);</code>
/// </summary>
public sealed class Op
{
    // Schema type codes (lrb.h: lrb_type_code).
    private const int TTensor = 1, TInt = 2, TFloat = 3, TBool = 4, TScalar = 5, TString = 6, TDevice = 7, TGenerator = 9;
    private const int TList = 16, TOptional = 32, TElemOptional = 64, BaseMask = 15;
    private const int OutNone = 0, OutTensor = 1, OutInt = 2, OutDouble = 3, OutBool = 4;
    private const int InlineOutputs = 8;

    private readonly string _name;
    private readonly string _overload;
    private Schema? _schema;

    /// <summary>Names an operator, e.g. ("aten::add", "Tensor"); "" is the default overload.</summary>
    public Op(string name, string overload = "")
    {
        _name = name;
        _overload = overload;
    }

    /// <summary>The operator's schema as libtorch prints it.</summary>
    public string SchemaText => Resolve().Text;

    /// <summary>Whether the operator has a kernel registered directly for <paramref name="device_type"/>'s backend
    /// (some ops, e.g. the AMP kernels of libtorch 1.13, exist for CUDA only).</summary>
    internal bool HasKernel(DeviceType device_type)
    {
        Check(lrb_op_has_kernel(Resolve().Handle, (int)device_type, out int hasKernel));
        return hasKernel != 0;
    }

    /// <summary>Calls the operator and returns its first output, which must be a tensor.</summary>
    public Tensor Call(params ReadOnlySpan<Arg> args)
    {
        Result first = default;
        int n = Invoke(args, ref first, null);
        if (n == 0 || first.Tensor is null) throw new InvalidOperationException($"{SchemaText} returned no tensor");
        return first.Tensor;
    }

    /// <summary>Calls the operator and returns every output (tuples and lists flattened) as tensors.</summary>
    public Tensor[] CallMany(params ReadOnlySpan<Arg> args)
    {
        var all = new List<Result>();
        Result first = default;
        Invoke(args, ref first, all);
        return all.Select(r => r.Tensor ?? throw new InvalidOperationException($"{SchemaText} returned a non-tensor value")).ToArray();
    }

    /// <summary>Calls the operator and returns its first output as a number (for int/float/bool returns).</summary>
    public double CallScalar(params ReadOnlySpan<Arg> args)
    {
        Result first = default;
        int n = Invoke(args, ref first, null);
        if (n == 0 || first.Tensor is not null) throw new InvalidOperationException($"{SchemaText} returned no scalar");
        return first.Value;
    }

    /// <summary>Calls an in-place operator (returns self) and frees the returned alias.</summary>
    public void CallInPlace(params ReadOnlySpan<Arg> args)
    {
        var all = new List<Result>();
        Result first = default;
        Invoke(args, ref first, all);
        foreach (Result r in all) r.Tensor?.Dispose();
    }

    private struct Result
    {
        public Tensor? Tensor;
        public double Value;
    }

    private sealed record Schema(IntPtr Handle, int[] Codes, bool[] HasDefault, string[] Names, string[] Types, string Text);

    // Every call after the first is one field read; the one-time lookup stays out of the inlinable fast path.
    private Schema Resolve() => _schema ?? Lookup();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Schema Lookup()
    {
        Check(lrb_op_find(_name, _overload, out IntPtr handle, out int nargs, out _));
        var codes = new int[nargs];
        var hasDefault = new bool[nargs];
        var names = new string[nargs];
        var types = new string[nargs];
        for (int i = 0; i < nargs; i++)
        {
            lrb_op_arg(handle, i, out codes[i], out int d, out IntPtr name, out IntPtr type);
            hasDefault[i] = d != 0;
            names[i] = Marshal.PtrToStringUTF8(name) ?? "";
            types[i] = Marshal.PtrToStringUTF8(type) ?? "";
        }
        string text = Marshal.PtrToStringUTF8(lrb_op_schema(handle)) ?? _name;
        return _schema = new Schema(handle, codes, hasDefault, names, types, text);
    }

    [SkipLocalsInit]  // the stack buffers (~800 bytes) are always written before they are read: zeroing them is wasted work
    private unsafe int Invoke(ReadOnlySpan<Arg> args, ref Result first, List<Result>? all)
    {
        Schema schema = Resolve();
        if (args.Length > schema.Codes.Length)
            throw new ArgumentException($"{schema.Text}: takes {schema.Codes.Length} arguments, {args.Length} were given");

        int scratchLength = 0;
        foreach (ref readonly Arg a in args) scratchLength += a.ScratchLength;
        long[]? heapScratch = scratchLength > 64 ? new long[scratchLength] : null;
        Span<long> scratch = heapScratch ?? stackalloc long[64];
        ArgValue* native = stackalloc ArgValue[Math.Max(args.Length, 1)];
        OutValue* outs = stackalloc OutValue[InlineOutputs];
        int nouts;
        // Strings live in the scratch space, so nothing needs freeing and the native call sits in no try block
        // (on x64 the JIT does not inline a P/Invoke transition inside one).
        fixed (long* scratchBase = scratch)
        {
            long* cursor = scratchBase;
            for (int i = 0; i < args.Length; i++)
                native[i] = Convert(schema, i, in args[i], ref cursor);
            Check(lrb_op_call(schema.Handle, native, args.Length, outs, InlineOutputs, out nouts));
        }
        for (int i = 0; i < args.Length; i++) GC.KeepAlive(args[i].O);

        if (nouts > InlineOutputs)
        {
            var many = new OutValue[nouts];
            fixed (OutValue* p = many) Check(lrb_op_take_results(p, nouts));
            for (int i = 0; i < nouts; i++) Collect(many[i], i, ref first, all);
        }
        else
        {
            for (int i = 0; i < nouts; i++) Collect(outs[i], i, ref first, all);
        }
        return nouts;
    }

    private static void Collect(in OutValue o, int index, ref Result first, List<Result>? all)
    {
        var r = new Result
        {
            Tensor = o.Kind == OutTensor && o.T != IntPtr.Zero ? new Tensor(o.T) : null,
            Value = o.Kind switch { OutInt or OutBool => o.I, OutDouble => o.D, _ => double.NaN },
        };
        if (index == 0) first = r;
        if (all is not null) all.Add(r);
        else if (index > 0) r.Tensor?.Dispose();
    }

    private unsafe ArgValue Convert(Schema schema, int i, in Arg a, ref long* cursor)
    {
        int code = schema.Codes[i];
        int baseType = code & BaseMask;
        bool isList = (code & TList) != 0;
        bool optional = (code & TOptional) != 0;
        ArgValue v = default;
        switch (a.Kind)
        {
            case Arg.Kinds.None:
                if (optional) v.Kind = (int)Arg.Kinds.None;
                else if (schema.HasDefault[i]) v.Kind = (int)Arg.Kinds.Default;
                else throw Mismatch(schema, i, a);
                return v;
            case Arg.Kinds.Default:
                if (!schema.HasDefault[i]) throw new ArgumentException($"{schema.Text}: argument '{schema.Names[i]}' has no default value");
                v.Kind = (int)Arg.Kinds.Default;
                return v;
            case Arg.Kinds.Tensor when baseType == TTensor && !isList:
                v.Kind = (int)Arg.Kinds.Tensor;
                v.P = ((Tensor)a.O!).Handle;
                return v;
            case Arg.Kinds.TensorList when baseType == TTensor && isList:
            case Arg.Kinds.OptionalTensorList when baseType == TTensor && isList && (code & TElemOptional) != 0:
            {
                var tensors = (Tensor?[])a.O!;
                v.Kind = (code & TElemOptional) != 0 ? (int)Arg.Kinds.OptionalTensorList : (int)Arg.Kinds.TensorList;
                v.Len = tensors.Length;
                v.P = (IntPtr)cursor;
                foreach (Tensor? t in tensors)
                {
                    if (t is null && v.Kind == (int)Arg.Kinds.TensorList)
                        throw new ArgumentException($"{schema.Text}: argument '{schema.Names[i]}' holds a null tensor");
                    *cursor++ = (long)(t?.Handle ?? IntPtr.Zero);
                }
                return v;
            }
            case Arg.Kinds.Int when !isList && baseType is TInt or TScalar:
                v.Kind = (int)Arg.Kinds.Int;
                v.I = a.I;
                return v;
            case Arg.Kinds.Int when !isList && baseType == TFloat:
            case Arg.Kinds.Double when !isList && baseType is TFloat or TScalar:
                v.Kind = (int)Arg.Kinds.Double;
                v.D = a.Kind == Arg.Kinds.Int ? a.I : a.D;
                return v;
            case Arg.Kinds.Int when isList && baseType == TInt:
                v.Kind = (int)Arg.Kinds.IntList;
                v.Len = 1;
                v.P = (IntPtr)cursor;
                *cursor++ = a.I;
                return v;
            case Arg.Kinds.Bool when !isList && baseType == TBool:
                v.Kind = (int)Arg.Kinds.Bool;
                v.I = a.I;
                return v;
            case Arg.Kinds.IntList when isList && baseType == TInt:
                return CopyList(Arg.Kinds.IntList, (long[])a.O!, ref cursor);
            case Arg.Kinds.BoolList when isList && baseType == TBool:
                return CopyList(Arg.Kinds.BoolList, Array.ConvertAll((bool[])a.O!, b => b ? 1L : 0L), ref cursor);
            case Arg.Kinds.DoubleList when isList && baseType == TFloat:
                return CopyList(Arg.Kinds.DoubleList, Array.ConvertAll((double[])a.O!, BitConverter.DoubleToInt64Bits), ref cursor);
            case Arg.Kinds.String when baseType == TString && !isList:
            {
                // NUL-terminated UTF-8 in the scratch words that Arg.ScratchLength reserved for it.
                var bytes = new Span<byte>(cursor, a.ScratchLength * sizeof(long));
                bytes[Encoding.UTF8.GetBytes((string)a.O!, bytes)] = 0;
                v.Kind = (int)Arg.Kinds.String;
                v.P = (IntPtr)cursor;
                cursor += a.ScratchLength;
                return v;
            }
            case Arg.Kinds.Device when baseType == TDevice && !isList:
                if (a.I == (long)DeviceType.CUDA) new Device(DeviceType.CUDA, (int)a.D).EnsureAvailable();
                v.Kind = (int)Arg.Kinds.Device;
                v.I = a.I;
                v.Len = (int)a.D;
                return v;
            case Arg.Kinds.Generator when baseType == TGenerator && !isList:
                v.Kind = (int)Arg.Kinds.Generator;
                v.P = ((Generator)a.O!).Handle;
                return v;
            default:
                throw Mismatch(schema, i, a);
        }
    }

    private static unsafe ArgValue CopyList(Arg.Kinds kind, long[] values, ref long* cursor)
    {
        var v = new ArgValue { Kind = (int)kind, Len = values.Length, P = (IntPtr)cursor };
        foreach (long x in values) *cursor++ = x;
        return v;
    }

    private static ArgumentException Mismatch(Schema schema, int i, in Arg a) =>
        new($"{schema.Text}: argument '{schema.Names[i]}' (position {i}) expects {schema.Types[i]} but got {a}", schema.Names[i]);
}
