using LowRankBias.Torch;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Onnx.Ops;

/// <summary>ONNX's spatial padding of Conv and the pools: explicit <c>pads</c> (begin values of every spatial axis, then
/// end values — possibly different) or <c>auto_pad</c> SAME_UPPER/SAME_LOWER, which depend on the input size.</summary>
internal sealed class Padding
{
    private readonly string _autoPad;
    private readonly long[] _pads;
    private readonly long[] _strides, _dilations;
    private readonly long[]? _kernel;

    public Padding(NodeContext node, long[]? kernel, int spatial)
    {
        _autoPad = node.String("auto_pad", "NOTSET");
        if (_autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER"))
            throw node.Unsupported($"auto_pad = '{_autoPad}'");
        _pads = _autoPad == "NOTSET" ? node.Ints("pads") ?? new long[2 * spatial] : new long[2 * spatial];
        if (_pads.Length != 2 * spatial) throw node.Unsupported($"pads has {_pads.Length} values, expected {2 * spatial}");
        _strides = node.Ints("strides") ?? Enumerable.Repeat(1L, spatial).ToArray();
        _dilations = node.Ints("dilations") ?? Enumerable.Repeat(1L, spatial).ToArray();
        _kernel = kernel;
        Spatial = spatial;
    }

    public int Spatial { get; }
    public long[] Strides => _strides;
    public long[] Dilations => _dilations;

    /// <summary>Known at load time and equal on both sides of every axis: the convolution or pool can pad by itself.</summary>
    public bool IsStaticSymmetric => _autoPad is "NOTSET" or "VALID" && _pads.Take(Spatial).SequenceEqual(_pads.Skip(Spatial));

    /// <summary>The symmetric padding (valid when <see cref="IsStaticSymmetric"/>).</summary>
    public long[] Symmetric => _pads.Take(Spatial).ToArray();

    /// <summary>(begin, end) of every spatial axis for <paramref name="input"/> and a kernel of <paramref name="kernel"/>.</summary>
    public (long[] begin, long[] end) For(Tensor input, long[]? kernel = null)
    {
        if (_autoPad is "NOTSET" or "VALID") return (_pads.Take(Spatial).ToArray(), _pads.Skip(Spatial).ToArray());
        long[] k = kernel ?? _kernel!, begin = new long[Spatial], end = new long[Spatial];
        for (int i = 0; i < Spatial; i++)
        {
            long size = input.shape[input.dim() - Spatial + i], output = (size + _strides[i] - 1) / _strides[i];
            long total = Math.Max(0, (output - 1) * _strides[i] + (k[i] - 1) * _dilations[i] + 1 - size);
            long small = total / 2;
            (begin[i], end[i]) = _autoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small);
        }
        return (begin, end);
    }

    /// <summary><paramref name="input"/> padded explicitly with <paramref name="value"/>.</summary>
    public static Tensor Apply(Tensor input, long[] begin, long[] end, double value)
    {
        if (begin.All(p => p == 0) && end.All(p => p == 0)) return input;
        // F.pad lists the last axis first.
        long[] pad = Enumerable.Range(0, begin.Length).Reverse().SelectMany(i => new[] { begin[i], end[i] }).ToArray();
        return F.pad(input, pad, "constant", value);
    }
}
