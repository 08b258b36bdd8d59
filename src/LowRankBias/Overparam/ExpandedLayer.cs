using System.Globalization;
using LowRankBias.Torch;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Overparam;

/// <summary>
/// A linear layer W over-parameterised as a product of d factors, y = W_d(⋯W_1(x)) + b (Huh thesis, App. 7.2): it
/// computes exactly the functions the original layer can (for an inner width h at least the rank the original weight can reach) but trains with the
/// low-rank bias of depth. Factors are parameters <c>weight_1</c> … <c>weight_d</c> (W_1 is applied first); the bias
/// stays on the last factor. Initialisation keeps the original layer's output variance: W_1 ~ N(0, (g·s)²) with s² the
/// mean square of the original weight (W_1 has the original fan-in), and every later factor ~ N(0, 1/h), which
/// preserves variance through a linear map of fan-in h; the expected squared output is then g² times the original's.
/// </summary>
public abstract class ExpandedLayer : Module, IEffectiveWeight
{
    private readonly Tensor[] _factors;

    /// <summary>Registers factors of the given shapes, draws them from the variance-preserving initialisation and
    /// takes a copy of <paramref name="sourceBias"/> (null for a layer without bias).</summary>
    private protected ExpandedLayer(Tensor sourceWeight, Tensor? sourceBias, long[][] factorShapes, long width, double gain)
    {
        Width = width;
        WeightShape = sourceWeight.shape;
        double rootMeanSquare;
        using (torch.no_grad())
        using (Tensor meanSquare = sourceWeight.detach().square().mean())
            rootMeanSquare = Math.Sqrt(meanSquare.to(ScalarType.Float64).item<double>());
        _factors = new Tensor[factorShapes.Length];
        for (int i = 0; i < factorShapes.Length; i++)
        {
            Tensor factor = torch.empty(factorShapes[i], sourceWeight.dtype, sourceWeight.device);
            double std = i == 0 ? gain * rootMeanSquare : 1 / Math.Sqrt(width);
            torch.nn.init.normal_(factor, 0, std);
            _factors[i] = register_parameter(string.Create(CultureInfo.InvariantCulture, $"weight_{i + 1}"), factor);
        }
        if (sourceBias is null) bias = register_parameter("bias", null);
        else
        {
            using var noGrad = torch.no_grad();
            bias = register_parameter("bias", sourceBias.detach().clone(), sourceBias.requires_grad);
        }
    }

    /// <summary>The factors W_1 … W_d in the order they are applied.</summary>
    public IReadOnlyList<Tensor> factors => _factors;

    /// <summary>The bias added after the last factor, or null.</summary>
    public Tensor? bias { get; }

    /// <summary>Number of factors d.</summary>
    public int Depth => _factors.Length;

    /// <summary>Inner width h (output size of every factor but the last).</summary>
    public long Width { get; }

    /// <summary>Shape of the original layer's weight, which <see cref="EffectiveWeight"/> has.</summary>
    public long[] WeightShape { get; }

    /// <summary>Applies factor <paramref name="index"/> (0-based) to <paramref name="input"/>, adding <paramref name="addBias"/> when given.</summary>
    private protected abstract Tensor ApplyFactor(Tensor input, int index, Tensor? addBias);

    /// <summary>Throws a clear exception when <paramref name="input"/> does not fit the layer.</summary>
    private protected abstract void CheckInput(Tensor input);

    /// <summary>A plain layer of the original type whose weight is <see cref="EffectiveWeight"/> and whose bias is <see cref="bias"/>
    /// (copies, detached from autograd); it computes the same function as this layer.</summary>
    public abstract Module Collapse();

    /// <summary>W_d(⋯W_1(x)) + b.</summary>
    public override Tensor forward(Tensor input)
    {
        CheckInput(input);
        Tensor x = input;
        for (int i = 0; i < _factors.Length; i++)
        {
            Tensor next = ApplyFactor(x, i, i == _factors.Length - 1 ? bias : null);
            if (!ReferenceEquals(x, input)) x.Dispose();
            x = next;
        }
        return x;
    }

    /// <summary>
    /// The end-to-end weight W_e = W_d ⋯ W_1 in the original layer's shape (<see cref="WeightShape"/>); convolution
    /// factors are multiplied as matrices [out, in·kh·kw], which is exact because every factor after the first is 1×1.
    /// Differentiable with respect to the factors (wrap in <c>no_grad</c> for analysis); belongs to the caller's dispose scope.
    /// </summary>
    public Tensor EffectiveWeight()
    {
        using var scope = torch.NewDisposeScope();
        Tensor product = _factors[0].reshape(_factors[0].size(0), -1);
        for (int i = 1; i < _factors.Length; i++)
            product = _factors[i].reshape(_factors[i].size(0), -1).mm(product);
        return product.reshape(WeightShape).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public bool EffectiveWeightIsTable => false;

    /// <summary>Copies the effective weight and the bias into a freshly constructed plain layer.</summary>
    private protected T CopyInto<T>(T plain, Tensor plainWeight, Tensor? plainBias) where T : Module
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        plainWeight.copy_(EffectiveWeight());
        if (bias is not null) plainBias!.copy_(bias);
        return plain;
    }

    /// <inheritdoc />
    public override string extra_repr() => string.Create(CultureInfo.InvariantCulture,
        $"weight=[{string.Join(", ", WeightShape)}], depth={Depth}, width={Width}, bias={(bias is null ? "False" : "True")}");
}
