using LowRankBias.Torch;
using static LowRankBias.Onnx.Ops.Values;

namespace LowRankBias.Onnx.Ops;

/// <summary>Operators that move, cut and make tensors (and the shape arithmetic exporters emit around them). Where an
/// attribute became an input (Split, Slice, Squeeze, Unsqueeze), both forms are read, by opset.</summary>
internal static class ShapeOps
{
    public static void Register(Dictionary<string, KernelBuilder> ops)
    {
        ops["Identity"] = _ => x => [x[0]!.alias()];
        // Inference: dropout is the identity; its optional mask output is all true.
        ops["Dropout"] = _ => x => [x[0]!.alias(), torch.ones(x[0]!.shape, ScalarType.Bool, x[0]!.device)];
        ops["Constant"] = Constant;
        ops["Shape"] = Shape;
        ops["Reshape"] = Reshape;
        ops["Flatten"] = node =>
        {
            long axis = node.Int("axis", 1);
            return x =>
            {
                long[] s = x[0]!.shape;
                long a = Axis(axis, s.Length);
                return [x[0]!.reshape(Product(s.Take((int)a)), Product(s.Skip((int)a)))];
            };
        };
        ops["Transpose"] = node =>
        {
            long[]? perm = node.Ints("perm");
            return x => [x[0]!.permute(perm ?? Enumerable.Range(0, (int)x[0]!.dim()).Reverse().Select(i => (long)i).ToArray())];
        };
        ops["Concat"] = node =>
        {
            long axis = node.Int("axis", 0);
            return x => [torch.cat(x.Where(t => t is not null).Select(t => t!).ToArray(), axis)];
        };
        ops["Split"] = Split;
        ops["Slice"] = Slice;
        ops["Squeeze"] = node =>
        {
            long[]? attribute = node.Opset < 13 ? node.Ints("axes") : null;
            return x =>
            {
                Tensor t = x[0]!;
                long[] axes = (node.Opset < 13 ? attribute : x.Length > 1 && x[1] is { } a ? Longs(a) : null)
                    ?? Enumerable.Range(0, (int)t.dim()).Where(i => t.shape[i] == 1).Select(i => (long)i).ToArray();
                long[] drop = axes.Select(a => Axis(a, t.dim())).ToArray();
                return [t.reshape(t.shape.Where((_, i) => !drop.Contains(i)).ToArray())];
            };
        };
        ops["Unsqueeze"] = node =>
        {
            long[]? attribute = node.Opset < 13 ? node.Ints("axes") : null;
            return x =>
            {
                Tensor t = x[0]!;
                long[] axes = node.Opset < 13 ? attribute! : Longs(x[1]!);
                long rank = t.dim() + axes.Length;
                var shape = new List<long>(t.shape);
                foreach (long a in axes.Select(a => Axis(a, rank)).Order()) shape.Insert((int)a, 1);
                return [t.reshape(shape.ToArray())];
            };
        };
        ops["Gather"] = node =>
        {
            long axis = node.Int("axis", 0);
            return x =>
            {
                Tensor data = x[0]!, indices = x[1]!.to(ScalarType.Int64);
                long a = Axis(axis, data.dim()), size = data.shape[a];
                Tensor flat = torch.where(indices < 0, indices + size, indices).reshape(-1);
                long[] shape = [.. data.shape.Take((int)a), .. indices.shape, .. data.shape.Skip((int)a + 1)];
                return [data.index_select(a, flat).reshape(shape)];
            };
        };
        ops["Expand"] = _ => x =>
        {
            long[] s = x[0]!.shape, target = Longs(x[1]!);
            int rank = Math.Max(s.Length, target.Length);
            long At(long[] d, int i) => i - (rank - d.Length) is int j && j >= 0 ? d[j] : 1;
            long[] shape = Enumerable.Range(0, rank).Select(i => At(target, i) == 1 ? At(s, i) : At(target, i)).ToArray();
            return [x[0]!.expand(shape)];
        };
        ops["ConstantOfShape"] = node =>
        {
            (double value, ScalarType dtype) = node.Attribute("value") is { } a ? FirstValue(a.T, node) : (0.0, ScalarType.Float32);
            return x => [torch.full(Longs(x[0]!), value, dtype, x[0]!.device)];
        };
        ops["Pad"] = Pad;
        ops["Range"] = _ => x =>
            [torch.arange(Scalar(x[0]!), Scalar(x[1]!), Scalar(x[2]!), x[0]!.dtype, x[0]!.device)];
    }

    private static (double, ScalarType) FirstValue(global::Onnx.TensorProto proto, NodeContext node)
    {
        using Tensor t = OnnxTensors.ToTensor(proto, node.ModelPath, node.Describe + " value");
        return (Scalar(t), t.dtype);
    }

    private static Kernel Constant(NodeContext node)
    {
        global::Onnx.AttributeProto? a = node.Attribute("value") ?? node.Attribute("value_float") ?? node.Attribute("value_floats")
            ?? node.Attribute("value_int") ?? node.Attribute("value_ints");
        if (a is null) throw node.Unsupported("a Constant needs value, value_float(s) or value_int(s) (sparse and string values are not supported)");
        return a.Name switch
        {
            "value" => _ => [OnnxTensors.ToTensor(a.T, node.ModelPath, node.Describe + " value")],
            "value_float" => _ => [torch.tensor(new[] { a.F }, [])],
            "value_floats" => _ => [torch.tensor(a.Floats.ToArray())],
            "value_int" => _ => [torch.tensor(new[] { a.I }, [])],
            _ => _ => [torch.tensor(a.Ints.ToArray())],
        };
    }

    // Opset 15 added start/end to take a part of the shape.
    private static Kernel Shape(NodeContext node)
    {
        long? start = node.Attribute("start")?.I, end = node.Attribute("end")?.I;
        return x =>
        {
            long[] s = x[0]!.shape;
            long from = Math.Clamp(Axis(start ?? 0, s.Length), 0, s.Length), to = Math.Clamp(Axis(end ?? s.Length, s.Length), 0, s.Length);
            return [Vector(s[(int)from..(int)Math.Max(from, to)], x[0]!)];
        };
    }

    // 0 copies the input's dimension (unless allowzero, opset 14), -1 is inferred.
    private static Kernel Reshape(NodeContext node)
    {
        bool allowZero = node.Int("allowzero", 0) != 0;
        return x =>
        {
            long[] s = x[0]!.shape, target = Longs(x[1]!);
            for (int i = 0; i < target.Length; i++)
                if (target[i] == 0 && !allowZero) target[i] = s[i];
            return [x[0]!.reshape(target)];
        };
    }

    // pads (begin of every axis, then end of every axis) and the value are attributes before opset 11, inputs from then on.
    private static Kernel Pad(NodeContext node)
    {
        string mode = node.String("mode", "constant");
        string torchMode = mode switch
        {
            "constant" => "constant",
            "reflect" => "reflect",
            "edge" => "replicate",
            _ => throw node.Unsupported($"mode = '{mode}'"),
        };
        long[]? attribute = node.Opset < 11 ? node.Ints("pads") ?? throw node.Unsupported("the 'pads' attribute is missing") : null;
        double attributeValue = node.Float("value", 0);
        return x =>
        {
            long[] pads = attribute ?? Longs(x[1]!);
            int rank = pads.Length / 2;
            // libtorch's reflect/replicate pad only trailing axes: leading unpadded axes are left out.
            int first = mode == "constant" ? 0 : Enumerable.Range(0, rank).FirstOrDefault(i => pads[i] != 0 || pads[rank + i] != 0, rank);
            long[] torchPads = Enumerable.Range(first, rank - first).Reverse().SelectMany(i => new[] { pads[i], pads[rank + i] }).ToArray();
            double value = node.Opset < 11 ? attributeValue : x.Length > 2 && x[2] is { } v ? Scalar(v) : 0;
            return [torch.nn.functional.pad(x[0]!, torchPads, torchMode, mode == "constant" ? value : null)];
        };
    }

    // Sizes: the 'split' attribute before opset 13, the optional second input from then on; else equal parts.
    private static Kernel Split(NodeContext node)
    {
        long axis = node.Int("axis", 0);
        long[]? attribute = node.Opset < 13 ? node.Ints("split") : null;
        int parts = node.Node.Output.Count;
        return x =>
        {
            Tensor t = x[0]!;
            long a = Axis(axis, t.dim());
            long[] sizes = (node.Opset < 13 ? attribute : x.Length > 1 && x[1] is { } s ? Longs(s) : null)
                ?? Enumerable.Repeat(t.shape[a] / parts, parts).ToArray();
            return t.split(sizes, a);
        };
    }

    // starts/ends/axes are attributes before opset 10, inputs (with steps) from then on. Bounds are clamped as NumPy's.
    private static Kernel Slice(NodeContext node)
    {
        long[]? starts = null, ends = null, axes = null;
        if (node.Opset < 10)
        {
            starts = node.Ints("starts") ?? throw node.Unsupported("the 'starts' attribute is missing");
            ends = node.Ints("ends") ?? throw node.Unsupported("the 'ends' attribute is missing");
            axes = node.Ints("axes");
        }
        return x =>
        {
            Tensor t = x[0]!;
            long[] b = starts ?? Longs(x[1]!), e = ends ?? Longs(x[2]!);
            long[] ax = (node.Opset < 10 ? axes : x.Length > 3 && x[3] is { } a ? Longs(a) : null) ?? Enumerable.Range(0, b.Length).Select(i => (long)i).ToArray();
            long[] steps = node.Opset >= 10 && x.Length > 4 && x[4] is { } st ? Longs(st) : Enumerable.Repeat(1L, b.Length).ToArray();
            for (int i = 0; i < ax.Length; i++) t = SliceAxis(t, Axis(ax[i], t.dim()), b[i], e[i], steps[i]);
            return [t.alias()];
        };
    }

    private static Tensor SliceAxis(Tensor t, long axis, long start, long end, long step)
    {
        long size = t.shape[axis];
        if (step == 0) throw new ArgumentException("Slice step 0");
        if (start < 0) start += size;
        if (end < 0) end += size;
        if (step > 0) return t.slice(axis, Math.Clamp(start, 0, size), Math.Max(Math.Clamp(end, 0, size), Math.Clamp(start, 0, size)), step);
        // Negative steps (libtorch's slice has none): the indices start, start+step, ... > end, picked out.
        start = Math.Clamp(start, 0, size - 1);
        end = Math.Clamp(end, -1, size - 1);
        var picks = new List<long>();
        for (long i = start; i > end; i += step) picks.Add(i);
        return t.index_select(axis, Vector([.. picks], t));
    }
}
