using static LowRankBias.Torch.Tests.TestData;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Tests;

/// <summary>Autograd of every differentiable torch.nn.functional function against finite differences.</summary>
public class FunctionalGradientTests
{
    private static Tensor Classes(params long[] values) => tensor(values);

    private static readonly Dictionary<string, Action> s_cases = new()
    {
        // linear maps and lookups
        ["linear"] = () => GradCheck.Verify((x, w, b) => F.linear(x, w, b), Randn(1, 2, 2, 3), Randn(2, 4, 3), Randn(3, 4)),
        ["linear without bias"] = () => GradCheck.Verify((x, w) => F.linear(x, w), Randn(4, 2, 3), Randn(5, 2, 3)),
        ["embedding weight"] = () => GradCheck.Verify(w => F.embedding(tensor(new long[] { 0, 2, 2, 3 }, [2, 2]), w), Randn(6, 4, 3)),

        // convolution and pooling
        ["conv2d"] = () => GradCheck.Verify((x, w, b) => F.conv2d(x, w, b), Randn(10, 1, 2, 4, 4), Randn(11, 3, 2, 3, 3), Randn(12, 3)),
        ["conv2d stride padding"] = () => GradCheck.Verify((x, w) => F.conv2d(x, w, stride: [2], padding: [1, 2]), Randn(13, 2, 1, 5, 4), Randn(14, 2, 1, 3, 2)),
        ["conv2d dilation"] = () => GradCheck.Verify((x, w) => F.conv2d(x, w, dilation: [2, 1]), Randn(15, 1, 1, 5, 4), Randn(16, 1, 1, 2, 2)),
        ["conv2d groups"] = () => GradCheck.Verify((x, w, b) => F.conv2d(x, w, b, groups: 2), Randn(17, 1, 4, 3, 3), Randn(18, 2, 2, 2, 2), Randn(19, 2)),
        ["max_pool2d"] = () => GradCheck.Verify(x => F.max_pool2d(x, [2]), Randn(20, 1, 2, 4, 4)),
        ["max_pool2d overlapping padded"] = () => GradCheck.Verify(x => F.max_pool2d(x, [3, 2], stride: [1], padding: [1]), Randn(21, 1, 1, 4, 3)),
        ["max_pool2d dilation ceil"] = () => GradCheck.Verify(x => F.max_pool2d(x, [2], stride: [2], dilation: [2], ceil_mode: true), Randn(22, 1, 1, 5, 5)),
        ["avg_pool2d"] = () => GradCheck.Verify(x => F.avg_pool2d(x, [2]), Randn(23, 1, 2, 4, 4)),
        ["avg_pool2d padding excluded"] = () => GradCheck.Verify(x => F.avg_pool2d(x, [3], stride: [2], padding: [1], count_include_pad: false), Randn(24, 1, 1, 5, 4)),
        ["avg_pool2d divisor override"] = () => GradCheck.Verify(x => F.avg_pool2d(x, [2], stride: [1], divisor_override: 3), Randn(25, 1, 1, 3, 3)),
        ["adaptive_avg_pool2d"] = () => GradCheck.Verify(x => F.adaptive_avg_pool2d(x, [3, 2]), Randn(26, 1, 2, 5, 5)),
        ["pad constant"] = () => GradCheck.Verify(x => F.pad(x, [1, 2, 0, 1], value: 0.5), Randn(27, 1, 1, 2, 3)),
        ["pad reflect"] = () => GradCheck.Verify(x => F.pad(x, [2, 1, 1, 1], "reflect"), Randn(28, 1, 1, 3, 3)),
        ["pad replicate"] = () => GradCheck.Verify(x => F.pad(x, [1, 1, 2, 0], "replicate"), Randn(29, 1, 1, 2, 3)),
        ["pad circular"] = () => GradCheck.Verify(x => F.pad(x, [1, 2, 1, 0], "circular"), Randn(30, 1, 1, 3, 3)),

        // normalisation
        ["layer_norm"] = () => GradCheck.Verify((x, w, b) => F.layer_norm(x, [3], w, b), Randn(40, 2, 3), Randn(41, 3), Randn(42, 3)),
        ["layer_norm two dims"] = () => GradCheck.Verify(x => F.layer_norm(x, [2, 3], eps: 1e-3), Randn(43, 2, 2, 3)),
        ["batch_norm training"] = () => GradCheck.Verify(
            (x, w, b) => F.batch_norm(x, zeros([3], ScalarType.Float64), ones([3], ScalarType.Float64), w, b, training: true),
            Randn(44, 4, 3), Randn(45, 3), Randn(46, 3)),
        ["batch_norm training without running stats"] = () => GradCheck.Verify(x => F.batch_norm(x, null, null, training: true), Randn(47, 3, 2, 2, 2)),
        ["batch_norm evaluation"] = () => GradCheck.Verify(
            (x, w, b) => F.batch_norm(x, Randn(48, 2), Uniform(49, 0.5, 2, 2), w, b), Randn(50, 3, 2, 2), Randn(51, 2), Randn(52, 2)),
        ["group_norm"] = () => GradCheck.Verify((x, w, b) => F.group_norm(x, 2, w, b), Randn(53, 2, 4, 2), Randn(54, 4), Randn(55, 4)),

        // activations
        ["relu"] = () => GradCheck.Verify(x => F.relu(x), Randn(60, 6)),
        ["silu"] = () => GradCheck.Verify(x => F.silu(x), Randn(61, 6)),
        ["gelu"] = () => GradCheck.Verify(x => F.gelu(x), Randn(62, 6)),
        ["gelu tanh"] = () => GradCheck.Verify(x => F.gelu(x, "tanh"), Randn(63, 6)),
        ["tanh"] = () => GradCheck.Verify(x => F.tanh(x), Randn(64, 6)),
        ["sigmoid"] = () => GradCheck.Verify(x => F.sigmoid(x), Randn(65, 6)),
        ["softmax"] = () => GradCheck.Verify(x => F.softmax(x, -1), Randn(66, 2, 3)),
        ["log_softmax"] = () => GradCheck.Verify(x => F.log_softmax(x, 0), Randn(67, 2, 3)),

        // losses
        ["cross_entropy indices"] = () => GradCheck.Verify(x => F.cross_entropy(x, Classes(2, 0, 1)), Randn(70, 3, 4)),
        ["cross_entropy smoothing weight ignore"] = () => GradCheck.Verify(
            x => F.cross_entropy(x, Classes(2, -100, 1, 3), Uniform(72, 0.5, 2, 4), label_smoothing: 0.2), Randn(71, 4, 4)),
        ["cross_entropy sum"] = () => GradCheck.Verify(x => F.cross_entropy(x, Classes(1, 0), reduction: "sum", label_smoothing: 0.1), Randn(73, 2, 3)),
        ["cross_entropy none spatial"] = () => GradCheck.Verify(
            x => F.cross_entropy(x, tensor(new long[] { 0, 2, 1, 1 }, [2, 2]), reduction: "none"), Randn(74, 2, 3, 2)),
        ["cross_entropy probabilities"] = () => GradCheck.Verify(
            (x, p) => F.cross_entropy(x, p.softmax(1), label_smoothing: 0.1), Randn(75, 3, 4), Randn(76, 3, 4)),
        ["nll_loss"] = () => GradCheck.Verify(x => F.nll_loss(x.log_softmax(1), Classes(0, 2, 2), Uniform(78, 0.5, 2, 3)), Randn(77, 3, 3)),
        ["nll_loss none spatial"] = () => GradCheck.Verify(
            x => F.nll_loss(x, tensor(new long[] { 1, 0, 2, 1 }, [1, 2, 2]), reduction: "none"), Randn(79, 1, 3, 2, 2)),
        ["mse_loss"] = () => GradCheck.Verify((x, y) => F.mse_loss(x, y), Randn(80, 2, 3), Randn(81, 2, 3)),
        ["mse_loss sum"] = () => GradCheck.Verify((x, y) => F.mse_loss(x, y, "sum"), Randn(82, 4), Randn(83, 4)),
        ["binary_cross_entropy_with_logits"] = () => GradCheck.Verify(
            (x, t) => F.binary_cross_entropy_with_logits(x, t.sigmoid()), Randn(84, 2, 3), Randn(85, 2, 3)),
        ["binary_cross_entropy_with_logits weights"] = () => GradCheck.Verify(
            x => F.binary_cross_entropy_with_logits(x, Uniform(86, 0, 1, 2, 3), Uniform(88, 0.5, 2, 2, 3), "sum", Uniform(89, 0.5, 2, 3)),
            Randn(87, 2, 3)),

        // attention
        ["scaled_dot_product_attention"] = () => GradCheck.Verify(
            (q, k, v) => F.scaled_dot_product_attention(q, k, v), Randn(90, 2, 3, 2), Randn(91, 2, 4, 2), Randn(92, 2, 4, 3)),
        ["scaled_dot_product_attention bool mask"] = () => GradCheck.Verify(
            (q, k, v) => F.scaled_dot_product_attention(q, k, v, tensor(new[] { true, false, true, true, true, false }, [2, 3])),
            Randn(93, 1, 2, 2), Randn(94, 1, 3, 2), Randn(95, 1, 3, 2)),
        ["scaled_dot_product_attention float mask"] = () => GradCheck.Verify(
            xs => F.scaled_dot_product_attention(xs[0], xs[1], xs[2], xs[3]),
            [Randn(96, 2, 2), Randn(97, 3, 2), Randn(98, 3, 2), Randn(99, 2, 3)]),
        ["scaled_dot_product_attention causal"] = () => GradCheck.Verify(
            (q, k, v) => F.scaled_dot_product_attention(q, k, v, is_causal: true), Randn(100, 1, 2, 3, 2), Randn(101, 1, 2, 3, 2), Randn(102, 1, 2, 3, 2)),
    };

    /// <summary>The case names, one theory row each.</summary>
    public static TheoryData<string> Names => new(s_cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void AutogradMatchesFiniteDifferences(string op)
    {
        using DisposeScope scope = NewDisposeScope();
        s_cases[op]();
    }

    [Fact]
    public void EmbeddingPaddingRowGetsNoGradient()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor weight = Randn(110, 4, 2).requires_grad_();
        F.embedding(tensor(new long[] { 1, 3, 1, 0 }), weight, padding_idx: -1).sum().backward();
        // Rows 0 and 1 are looked up once and twice; row 3 is the padding row (−1 counts from the end); row 2 is unused.
        AssertClose([1, 1, 2, 2, 0, 0, 0, 0], weight.grad!, 0);
    }

    [Fact]
    public void DropoutGradientIsTheScaledMask()
    {
        using DisposeScope scope = NewDisposeScope();
        const double p = 0.3;
        Tensor x = Uniform(111, 1, 2, 200).requires_grad_();
        Tensor weights = Randn(112, 200);
        Tensor y = F.dropout(x, p, training: true);
        (y * weights).sum().backward();
        double[] xs = x.detach().ToArray<double>(), ys = y.detach().ToArray<double>(), w = weights.ToArray<double>();
        double[] grad = x.grad!.ToArray<double>();
        for (int i = 0; i < xs.Length; i++)
        {
            bool kept = ys[i] != 0;
            if (kept) Assert.Equal(xs[i] / (1 - p), ys[i], 12);
            Assert.Equal(kept ? w[i] / (1 - p) : 0, grad[i], 12);
        }
    }
}
