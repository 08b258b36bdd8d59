using System.Text;

namespace LowRankBias.Torch;

/// <summary>
/// One argument of a boxed operator call (<see cref="Op"/>). Converts implicitly from tensors, numbers, bools,
/// lists, strings, devices and scalar types, so calls read like <c>op.Call(x, 1, true)</c>.
/// </summary>
public readonly struct Arg
{
    internal enum Kinds { None, Tensor, TensorList, Int, IntList, Double, DoubleList, Bool, String, Device, OptionalTensorList, BoolList, Default, Generator }

    internal readonly Kinds Kind;
    internal readonly long I;
    internal readonly double D;
    internal readonly object? O;

    private Arg(Kinds kind, long i = 0, double d = 0, object? o = null) { Kind = kind; I = i; D = d; O = o; }

    /// <summary>An absent optional value (Python's None).</summary>
    public static readonly Arg None = new(Kinds.None);

    /// <summary>The schema's default for this position.</summary>
    public static readonly Arg Default = new(Kinds.Default);

    /// <summary>A list of optional tensors (e.g. for <c>aten::index</c>); null entries are None.</summary>
    public static Arg OptionalTensors(params Tensor?[] tensors) => new(Kinds.OptionalTensorList, o: tensors);

#pragma warning disable CS1591 // the conversions are self-describing
    public static implicit operator Arg(Tensor? t) => t is null ? None : new(Kinds.Tensor, o: t);
    public static implicit operator Arg(Tensor[] ts) => new(Kinds.TensorList, o: ts);
    public static implicit operator Arg(long v) => new(Kinds.Int, i: v);
    public static implicit operator Arg(int v) => new(Kinds.Int, i: v);
    public static implicit operator Arg(long? v) => v is null ? None : new(Kinds.Int, i: v.Value);
    public static implicit operator Arg(double v) => new(Kinds.Double, d: v);
    public static implicit operator Arg(double? v) => v is null ? None : new(Kinds.Double, d: v.Value);
    public static implicit operator Arg(bool v) => new(Kinds.Bool, i: v ? 1 : 0);
    public static implicit operator Arg(bool? v) => v is null ? None : new(Kinds.Bool, i: v.Value ? 1 : 0);
    public static implicit operator Arg(long[]? v) => v is null ? None : new(Kinds.IntList, o: v);
    public static implicit operator Arg(double[] v) => new(Kinds.DoubleList, o: v);
    public static implicit operator Arg(bool[] v) => new(Kinds.BoolList, o: v);
    public static implicit operator Arg(string? v) => v is null ? None : new(Kinds.String, o: v);
    public static implicit operator Arg(Device v) => new(Kinds.Device, i: (long)v.Type, d: v.Index);
    public static implicit operator Arg(Device? v) => v is null ? None : (Arg)v.Value;
    public static implicit operator Arg(ScalarType v) => new(Kinds.Int, i: (long)v);
    public static implicit operator Arg(ScalarType? v) => v is null ? None : new(Kinds.Int, i: (long)v.Value);
    public static implicit operator Arg(Generator? v) => v is null ? None : new(Kinds.Generator, o: v);
#pragma warning restore CS1591

    // 8-byte words of scratch space the call needs for this argument: the list's elements, one for an int that the
    // schema may want as a one-element list, or a NUL-terminated UTF-8 string.
    internal int ScratchLength => Kind switch
    {
        Kinds.TensorList or Kinds.OptionalTensorList or Kinds.IntList or Kinds.DoubleList or Kinds.BoolList => ((Array)O!).Length,
        Kinds.Int => 1,
        Kinds.String => (Encoding.UTF8.GetMaxByteCount(((string)O!).Length) + 1 + 7) / 8,
        _ => 0,
    };

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        Kinds.Int => $"int {I}",
        Kinds.Double => $"float {D}",
        Kinds.Bool => $"bool {I != 0}",
        Kinds.String => $"str \"{O}\"",
        Kinds.Tensor => "Tensor",
        Kinds.TensorList => "Tensor[]",
        Kinds.IntList => "int[]",
        Kinds.DoubleList => "float[]",
        Kinds.BoolList => "bool[]",
        Kinds.OptionalTensorList => "Tensor?[]",
        Kinds.Device => "Device",
        Kinds.Generator => "Generator",
        _ => Kind.ToString(),
    };
}
