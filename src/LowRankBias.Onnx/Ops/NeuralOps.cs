using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using static LowRankBias.Onnx.Ops.Values;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Onnx.Ops;

/// <summary>Layers: convolution and pooling (2-D), normalization, matrix products, softmax and reductions. Conv, Gemm and
/// MatMul whose weights are initializers of their own become <see cref="Conv2d"/>/<see cref="Linear"/> children of the
/// model, named after the node, so that LoRA and anything else that works on layers can target them.</summary>
internal static class NeuralOps
{
    public static void Register(Dictionary<string, KernelBuilder> ops)
    {
        ops["Conv"] = Conv;
        ops["MaxPool"] = MaxPool;
        ops["AveragePool"] = AveragePool;
        ops["GlobalAveragePool"] = _ => x => [x[0]!.mean(Enumerable.Range(2, (int)x[0]!.dim() - 2).Select(i => (long)i).ToArray(), keepdim: true)];
        ops["GlobalMaxPool"] = _ => x => [x[0]!.amax(Enumerable.Range(2, (int)x[0]!.dim() - 2).Select(i => (long)i).ToArray(), keepdim: true)];
        ops["BatchNormalization"] = BatchNormalization;
        ops["LayerNormalization"] = LayerNormalization;
        ops["Gemm"] = Gemm;
        ops["MatMul"] = MatMul;
        ops["Softmax"] = node => SoftmaxLike(node, (t, dim) => t.softmax(dim));
        ops["LogSoftmax"] = node => SoftmaxLike(node, (t, dim) => t.log_softmax(dim));
        ops["ReduceMean"] = node => Reduce(node, (t, axes, keep) => t.mean(axes, keep), axesInputFrom: 18);
        ops["ReduceSum"] = node => Reduce(node, (t, axes, keep) => t.sum(axes, keep), axesInputFrom: 13);
    }

    private static Kernel Conv(NodeContext node)
    {
        node.AllowOutputs(1);
        long[]? kernel = node.Ints("kernel_shape");
        if (kernel is not null && kernel.Length != 2) throw node.Unsupported($"only 2-D convolutions are supported (kernel_shape has {kernel.Length} axes)");
        var padding = new Padding(node, kernel, 2);
        long groups = node.Int("group", 1);
        Func<Tensor, Tensor>? layer = null;
        if (node.Host.CanOwn(node, 1) && node.Host.Peek(node, 1).dim() == 4 && (!node.HasInput(2) || node.Host.CanOwn(node, 2)))
        {
            Tensor w = node.Host.Own(node, 1, "weight", transposed: false);
            Tensor? b = node.HasInput(2) ? node.Host.Own(node, 2, "bias", transposed: false) : null;
            var conv = new Conv2d(w.shape[1] * groups, w.shape[0], [w.shape[2], w.shape[3]], padding.Strides,
                padding.IsStaticSymmetric ? padding.Symmetric : [0, 0], padding.Dilations, groups, bias: b is not null, dtype: w.dtype);
            CopyInto(conv.weight, w);
            if (b is not null) CopyInto(conv.bias!, b);
            Func<Module> current = node.Host.AddLayer(node, conv);
            kernel ??= [w.shape[2], w.shape[3]];
            layer = x => current().call(x);
        }
        return x =>
        {
            Tensor input = x[0]!;
            if (!padding.IsStaticSymmetric)
            {
                (long[] begin, long[] end) = padding.For(input, kernel ?? [x[1]!.shape[2], x[1]!.shape[3]]);
                input = Padding.Apply(input, begin, end, 0);
            }
            // The layer pads by itself when the padding is static and symmetric.
            return [layer is not null ? layer(input)
                : F.conv2d(input, x[1]!, x.Length > 2 ? x[2] : null, padding.Strides,
                    padding.IsStaticSymmetric ? padding.Symmetric : [0, 0], padding.Dilations, groups)];
        };
    }

    private static void CopyInto(Tensor target, Tensor source)
    {
        using var noGrad = torch.no_grad();
        target.copy_(source);
    }

    private static Kernel MaxPool(NodeContext node)
    {
        node.AllowOutputs(1);
        (long[] kernel, Padding padding, bool ceil) = Pool(node);
        return x =>
        {
            (long[] begin, long[] end) = padding.For(x[0]!);
            Tensor padded = Padding.Apply(x[0]!, begin, end, double.NegativeInfinity);
            return [F.max_pool2d(padded, kernel, padding.Strides, [0, 0], padding.Dilations, ceil)];
        };
    }

    // count_include_pad = 0 (the default) averages over the window's part inside the input: the zero-padded sum over
    // the zero-padded count of ones.
    private static Kernel AveragePool(NodeContext node)
    {
        node.AllowOutputs(1);
        (long[] kernel, Padding padding, bool ceil) = Pool(node);
        bool includePad = node.Int("count_include_pad", 0) != 0;
        return x =>
        {
            (long[] begin, long[] end) = padding.For(x[0]!);
            Tensor mean = F.avg_pool2d(Padding.Apply(x[0]!, begin, end, 0), kernel, padding.Strides, [0, 0], ceil, count_include_pad: true);
            if (includePad || (begin.All(p => p == 0) && end.All(p => p == 0))) return [mean];
            Tensor ones = torch.ones([1, 1, x[0]!.shape[2], x[0]!.shape[3]], x[0]!.dtype, x[0]!.device);
            return [mean / F.avg_pool2d(Padding.Apply(ones, begin, end, 0), kernel, padding.Strides, [0, 0], ceil, count_include_pad: true)];
        };
    }

    private static (long[] kernel, Padding padding, bool ceil) Pool(NodeContext node)
    {
        long[] kernel = node.Ints("kernel_shape") ?? throw node.Unsupported("kernel_shape is missing");
        if (kernel.Length != 2) throw node.Unsupported($"only 2-D pooling is supported (kernel_shape has {kernel.Length} axes)");
        if (node.Int("storage_order", 0) != 0) throw node.Unsupported("storage_order = 1 (column-major indices)");
        return (kernel, new Padding(node, kernel, 2), node.Int("ceil_mode", 0) != 0);
    }

    // Inference form only: the running statistics normalise; training_mode (opset 14) and spatial = 0 (before opset 9) are refused.
    private static Kernel BatchNormalization(NodeContext node)
    {
        node.AllowOutputs(1);
        if (node.Int("training_mode", 0) != 0) throw node.Unsupported("training_mode = 1");
        if (node.Int("spatial", 1) != 1) throw node.Unsupported("spatial = 0");
        double eps = node.Float("epsilon", 1e-5f);
        return x => [F.batch_norm(x[0]!, x[3], x[4], x[1], x[2], training: false, eps: eps)];
    }

    private static Kernel LayerNormalization(NodeContext node)
    {
        node.AllowOutputs(1);
        long axis = node.Int("axis", -1);
        double eps = node.Float("epsilon", 1e-5f);
        return x =>
        {
            long[] s = x[0]!.shape;
            return [F.layer_norm(x[0]!, s[(int)Axis(axis, s.Length)..], x[1], x.Length > 2 ? x[2] : null, eps)];
        };
    }

    // Y = alpha·A'·B' + beta·C. With B (and C, if any) initializers of its own, alpha = beta = 1 and A untransposed, the
    // node is a Linear layer (weight B or Bᵀ, bias C).
    private static Kernel Gemm(NodeContext node)
    {
        node.AllowOutputs(1);
        bool transA = node.Int("transA", 0) != 0, transB = node.Int("transB", 0) != 0;
        double alpha = node.Float("alpha", 1), beta = node.Float("beta", 1);
        if (!transA && alpha == 1 && node.Host.CanOwn(node, 1) && node.Host.Peek(node, 1).dim() == 2
            && (!node.HasInput(2) || (beta == 1 && node.Host.CanOwn(node, 2) && node.Host.Peek(node, 2) is { } c
                && c.dim() == 1 && c.shape[0] == node.Host.Peek(node, 1).shape[transB ? 0 : 1])))
        {
            Tensor w = node.Host.Own(node, 1, "weight", transposed: !transB);
            Tensor? b = node.HasInput(2) ? node.Host.Own(node, 2, "bias", transposed: false) : null;
            Tensor weight = transB ? w : w.t();
            var layer = new Linear(weight.shape[1], weight.shape[0], bias: b is not null, dtype: w.dtype);
            CopyInto(layer.weight, weight);
            if (b is not null) CopyInto(layer.bias!, b);
            Func<Module> current = node.Host.AddLayer(node, layer);
            return x => [current().call(x[0]!)];
        }
        return x =>
        {
            Tensor a = transA ? x[0]!.t() : x[0]!, bm = transB ? x[1]!.t() : x[1]!;
            Tensor y = a.mm(bm);
            if (alpha != 1) y = y * alpha;
            if (x.Length > 2 && x[2] is { } c) y = y + (beta == 1 ? c : c * beta);
            return [y];
        };
    }

    // A 2-D weight of its own makes the node a bias-free Linear layer (weight Bᵀ); otherwise NumPy's matmul.
    private static Kernel MatMul(NodeContext node)
    {
        node.AllowOutputs(1);
        if (node.Host.CanOwn(node, 1) && node.Host.Peek(node, 1).dim() == 2)
        {
            Tensor w = node.Host.Own(node, 1, "weight", transposed: true);
            var layer = new Linear(w.shape[0], w.shape[1], bias: false, dtype: w.dtype);
            CopyInto(layer.weight, w.t());
            Func<Module> current = node.Host.AddLayer(node, layer);
            return x => [current().call(x[0]!)];
        }
        return x => [x[0]!.matmul(x[1]!)];
    }

    // Before opset 13 the input is seen as a matrix [d0·…·d(axis−1), d(axis)·…] (default axis 1) normalised by rows;
    // from 13 on softmax runs along one axis (default −1).
    private static Kernel SoftmaxLike(NodeContext node, Func<Tensor, long, Tensor> f)
    {
        node.AllowOutputs(1);
        long axis = node.Int("axis", node.Opset < 13 ? 1 : -1);
        if (node.Opset >= 13) return x => [f(x[0]!, axis)];
        return x =>
        {
            long[] s = x[0]!.shape;
            long a = Axis(axis, s.Length);
            Tensor matrix = x[0]!.reshape(Product(s.Take((int)a)), Product(s.Skip((int)a)));
            return [f(matrix, 1).reshape(s)];
        };
    }

    // axes: an attribute until opset axesInputFrom − 1, an optional input from then on; none means every axis
    // (or, with noop_with_empty_axes, the identity).
    private static Kernel Reduce(NodeContext node, Func<Tensor, long[], bool, Tensor> f, int axesInputFrom)
    {
        node.AllowOutputs(1);
        bool keep = node.Int("keepdims", 1) != 0, noop = node.Int("noop_with_empty_axes", 0) != 0;
        long[]? attribute = node.Opset < axesInputFrom ? node.Ints("axes") : null;
        return x =>
        {
            long[]? axes = node.Opset < axesInputFrom ? attribute : x.Length > 1 && x[1] is { } a ? Longs(a) : null;
            if (axes is null || axes.Length == 0)
            {
                if (noop) return [x[0]!.alias()];
                axes = Enumerable.Range(0, (int)x[0]!.dim()).Select(i => (long)i).ToArray();
            }
            return [f(x[0]!, axes, keep)];
        };
    }
}
