using LowRankBias.Torch;
using static LowRankBias.Onnx.Ops.Values;

namespace LowRankBias.Onnx.Ops;

/// <summary>Pointwise operators. ONNX broadcasts like NumPy, as libtorch does.</summary>
internal static class ElementwiseOps
{
    private static readonly Op s_erf = new("aten::erf"), s_reciprocal = new("aten::reciprocal");
    private static readonly Op s_divMode = new("aten::div", "Tensor_mode");
    private static readonly Op s_eq = new("aten::eq", "Tensor"), s_lt = new("aten::lt", "Tensor"), s_gt = new("aten::gt", "Tensor");
    private static readonly Op s_not = new("aten::logical_not"), s_and = new("aten::logical_and"), s_or = new("aten::logical_or");

    public static void Register(Dictionary<string, KernelBuilder> ops)
    {
        Unary(ops, "Relu", x => x.relu());
        Unary(ops, "Tanh", x => x.tanh());
        Unary(ops, "Sigmoid", x => x.sigmoid());
        Unary(ops, "Sqrt", x => x.sqrt());
        Unary(ops, "Exp", x => x.exp());
        Unary(ops, "Log", x => x.log());
        Unary(ops, "Neg", x => -x);
        Unary(ops, "Abs", x => x.abs());
        Unary(ops, "Floor", x => x.floor());
        Unary(ops, "Ceil", x => x.ceil());
        Unary(ops, "Erf", x => s_erf.Call(x));
        Unary(ops, "Reciprocal", x => s_reciprocal.Call(x));
        Unary(ops, "Not", x => s_not.Call(x));
        // Gelu joined the standard at opset 20; some exporters emit it earlier.
        ops["Gelu"] = node =>
        {
            string approximate = node.String("approximate", "none");
            if (approximate is not ("none" or "tanh")) throw node.Unsupported($"approximate = '{approximate}'");
            return x => [x[0]!.gelu(approximate)];
        };
        Binary(ops, "Add", (a, b) => a + b);
        Binary(ops, "Sub", (a, b) => a - b);
        Binary(ops, "Mul", (a, b) => a * b);
        // Integer division truncates in ONNX; libtorch's div is true division.
        Binary(ops, "Div", (a, b) => a.dtype.IsFloatingPoint() ? a / b : s_divMode.Call(a, b, "trunc"));
        // The result has the base's type (an int exponent does not promote a float base, nor the reverse).
        Binary(ops, "Pow", (a, b) => { Tensor p = a.pow(b); return p.dtype == a.dtype ? p : p.to(a.dtype); });
        Binary(ops, "Equal", (a, b) => s_eq.Call(a, b));
        Binary(ops, "Less", (a, b) => s_lt.Call(a, b));
        Binary(ops, "Greater", (a, b) => s_gt.Call(a, b));
        Binary(ops, "And", (a, b) => s_and.Call(a, b));
        Binary(ops, "Or", (a, b) => s_or.Call(a, b));
        ops["Where"] = _ => x => [torch.where(x[0]!, x[1]!, x[2]!)];
        ops["Cast"] = node =>
        {
            ScalarType to = OnnxTensors.ScalarTypeOf((int)node.Int("to", 0), node.Describe);
            return x => [x[0]!.to(to)];
        };
        ops["Clip"] = Clip;
    }

    private static void Unary(Dictionary<string, KernelBuilder> ops, string name, Func<Tensor, Tensor> f) =>
        ops[name] = node => { node.AllowOutputs(1); return x => [f(x[0]!)]; };

    private static void Binary(Dictionary<string, KernelBuilder> ops, string name, Func<Tensor, Tensor, Tensor> f) =>
        ops[name] = node => { node.AllowOutputs(1); return x => [f(x[0]!, x[1]!)]; };

    // Bounds are attributes before opset 11 and optional inputs from then on.
    private static Kernel Clip(NodeContext node)
    {
        if (node.Opset < 11)
        {
            double min = node.Float("min", float.MinValue), max = node.Float("max", float.MaxValue);
            return x => [x[0]!.clamp(min, max)];
        }
        return x => [x[0]!.clamp(x.Length > 1 && x[1] is { } lo ? Scalar(lo) : null, x.Length > 2 && x[2] is { } hi ? Scalar(hi) : null)];
    }
}
