using static LowRankBias.Torch.Tests.TestData;

namespace LowRankBias.Torch.Tests;

/// <summary>Autograd of every differentiable Tensor method and torch.* free function, against finite differences.</summary>
public class TensorOpGradientTests
{
    private static Tensor Positive(int seed, params long[] shape) => Uniform(seed, 0.5, 2.0, shape);
    private static Tensor Indices(params long[] values) => tensor(values);

    private static readonly Dictionary<string, Action> s_cases = new()
    {
        // arithmetic, with broadcasting on both sides
        ["add broadcast"] = () => GradCheck.Verify((a, b) => a + b, Randn(1, 2, 3), Randn(2, 1, 3)),
        ["sub broadcast"] = () => GradCheck.Verify((a, b) => a - b, Randn(3, 2, 3), Randn(4, 3)),
        ["mul broadcast"] = () => GradCheck.Verify((a, b) => a * b, Randn(5, 2, 1), Randn(6, 1, 3)),
        ["div broadcast"] = () => GradCheck.Verify((a, b) => a / b, Randn(7, 2, 3), Positive(8, 3)),
        ["add alpha"] = () => GradCheck.Verify((a, b) => a.add(b, alpha: 2.5), Randn(9, 2, 3), Randn(10, 2, 3)),
        ["sub alpha"] = () => GradCheck.Verify((a, b) => a.sub(b, alpha: -0.5), Randn(11, 2, 3), Randn(12, 3)),
        ["scalar arithmetic"] = () => GradCheck.Verify(a => (2.0 - a * 3.0 + 1.5) / 4.0 - (-a), Randn(13, 2, 3)),
        ["scalar divided by tensor"] = () => GradCheck.Verify(a => 2.0 / a, Positive(14, 5)),

        // pointwise
        ["exp"] = () => GradCheck.Verify(a => a.exp(), Randn(20, 5)),
        ["log"] = () => GradCheck.Verify(a => a.log(), Positive(21, 5)),
        ["log1p"] = () => GradCheck.Verify(a => a.log1p(), Positive(22, 5)),
        ["expm1"] = () => GradCheck.Verify(a => a.expm1(), Randn(23, 5)),
        ["sqrt"] = () => GradCheck.Verify(a => a.sqrt(), Positive(24, 5)),
        ["rsqrt"] = () => GradCheck.Verify(a => a.rsqrt(), Positive(25, 5)),
        ["square"] = () => GradCheck.Verify(a => a.square(), Randn(26, 5)),
        ["pow scalar"] = () => GradCheck.Verify(a => a.pow(2.5), Positive(27, 5)),
        ["pow tensor"] = () => GradCheck.Verify((a, b) => a.pow(b), Positive(28, 2, 3), Randn(29, 3)),
        ["abs"] = () => GradCheck.Verify(a => a.abs(), Randn(30, 6)),
        ["sin"] = () => GradCheck.Verify(a => a.sin(), Randn(31, 5)),
        ["cos"] = () => GradCheck.Verify(a => a.cos(), Randn(32, 5)),
        ["tanh"] = () => GradCheck.Verify(a => a.tanh(), Randn(33, 5)),
        ["sigmoid"] = () => GradCheck.Verify(a => a.sigmoid(), Randn(34, 5)),
        ["relu"] = () => GradCheck.Verify(a => a.relu(), Randn(35, 8)),
        ["clamp"] = () => GradCheck.Verify(a => a.clamp(-0.5, 0.7), Randn(36, 10)),
        ["remainder"] = () => GradCheck.Verify(a => a.remainder(0.75), Randn(37, 6)),
        ["maximum"] = () => GradCheck.Verify((a, b) => a.maximum(b), Randn(38, 2, 3), Randn(39, 3)),
        ["minimum"] = () => GradCheck.Verify((a, b) => a.minimum(b), Randn(40, 2, 3), Randn(41, 2, 3)),
        ["softmax"] = () => GradCheck.Verify(a => a.softmax(1), Randn(42, 2, 4)),
        ["log_softmax"] = () => GradCheck.Verify(a => a.log_softmax(0), Randn(43, 3, 2)),
        ["gelu"] = () => GradCheck.Verify(a => a.gelu(), Randn(44, 6)),
        ["gelu tanh"] = () => GradCheck.Verify(a => a.gelu("tanh"), Randn(45, 6)),
        ["silu"] = () => GradCheck.Verify(a => a.silu(), Randn(46, 6)),

        // reductions
        ["sum"] = () => GradCheck.Verify(a => a.sum(), Randn(50, 2, 3)),
        ["sum dims keepdim"] = () => GradCheck.Verify(a => a.sum([0, 2], keepdim: true), Randn(51, 2, 3, 2)),
        ["mean"] = () => GradCheck.Verify(a => a.mean(), Randn(52, 2, 3)),
        ["mean dim"] = () => GradCheck.Verify(a => a.mean(1), Randn(53, 2, 3)),
        ["max"] = () => GradCheck.Verify(a => a.max(), Randn(54, 2, 3)),
        ["max dim"] = () => GradCheck.Verify(a => a.max(1).values, Randn(55, 3, 4)),
        ["min"] = () => GradCheck.Verify(a => a.min(), Randn(56, 2, 3)),
        ["min dim"] = () => GradCheck.Verify(a => a.min(0, keepdim: true).values, Randn(57, 3, 4)),
        ["amax"] = () => GradCheck.Verify(a => a.amax([1]), Randn(58, 3, 4)),
        ["amin"] = () => GradCheck.Verify(a => a.amin([0, 1]), Randn(59, 3, 4)),
        ["norm"] = () => GradCheck.Verify(a => a.norm(3, [1]), Randn(60, 3, 4)),
        ["var"] = () => GradCheck.Verify(a => a.var([1]), Randn(61, 3, 4)),
        ["std"] = () => GradCheck.Verify(a => a.std(correction: 0), Randn(62, 3, 4)),
        ["prod"] = () => GradCheck.Verify(a => a.prod(), Randn(63, 5)),
        ["cumsum"] = () => GradCheck.Verify(a => a.cumsum(1), Randn(64, 2, 4)),
        ["logsumexp"] = () => GradCheck.Verify(a => a.logsumexp([1]), Randn(65, 3, 4)),
        ["sort"] = () => GradCheck.Verify(a => a.sort(descending: true).values, Randn(66, 2, 5)),
        ["topk"] = () => GradCheck.Verify(a => a.topk(2).values, Randn(67, 3, 5)),
        ["free-function reductions"] = () => GradCheck.Verify(a => sum(a, [0]) + mean(a, [0]) + max(a, 0).values + logsumexp(a, [0]), Randn(68, 3, 4)),

        // shapes, views and indexing
        ["reshape"] = () => GradCheck.Verify(a => a.reshape(3, -1) * Randn(70, 3, 2), Randn(71, 2, 3)),
        ["view"] = () => GradCheck.Verify(a => a.view(6).cumsum(0), Randn(72, 2, 3)),
        ["permute"] = () => GradCheck.Verify(a => a.permute(2, 0, 1).cumsum(0), Randn(73, 2, 3, 2)),
        ["transpose and t"] = () => GradCheck.Verify(a => a.transpose(0, 1).mm(a.t().T), Randn(74, 2, 3)),
        ["mT and contiguous"] = () => GradCheck.Verify(a => a.mT.contiguous().cumsum(2), Randn(75, 2, 2, 3)),
        ["narrow"] = () => GradCheck.Verify(a => a.narrow(1, 1, 2), Randn(76, 2, 4)),
        ["slice step"] = () => GradCheck.Verify(a => a.slice(1, 0, 5, 2), Randn(77, 2, 5)),
        ["select and indexer"] = () => GradCheck.Verify(a => a.select(1, 2) * a[1].sum(), Randn(78, 2, 3)),
        ["index_select repeated"] = () => GradCheck.Verify(a => a.index_select(0, Indices(2, 0, 2)), Randn(79, 3, 2)),
        ["index"] = () => GradCheck.Verify(a => a.index(Indices(1, 0, 1), null), Randn(80, 2, 3)),
        ["gather"] = () => GradCheck.Verify(a => a.gather(1, tensor(new long[] { 0, 2, 2, 1 }, [2, 2])), Randn(81, 2, 3)),
        ["scatter"] = () => GradCheck.Verify((a, src) => a.scatter(1, tensor(new long[] { 2, 0 }, [2, 1]), src), Randn(82, 2, 3), Randn(83, 2, 1)),
        ["squeeze and unsqueeze"] = () => GradCheck.Verify(a => a.squeeze().unsqueeze(0).squeeze(0).cumsum(0), Randn(84, 3, 1)),
        ["flatten"] = () => GradCheck.Verify(a => a.flatten(1).cumsum(1), Randn(85, 2, 2, 2)),
        ["expand"] = () => GradCheck.Verify(a => a.expand(3, -1) * Randn(86, 3, 4), Randn(87, 1, 4)),
        ["expand_as"] = () => GradCheck.Verify((a, b) => a.expand_as(b) * b, Randn(88, 3, 1), Randn(89, 3, 2)),
        ["repeat"] = () => GradCheck.Verify(a => a.repeat(2, 3) * Randn(90, 4, 6), Randn(91, 2, 2)),
        ["split"] = () => GradCheck.Verify(a => a.split(2, 1)[1] * a.split([1, 3], 1)[0], Randn(92, 2, 4)),
        ["chunk"] = () => GradCheck.Verify(a => a.chunk(2, 0)[0] - a.chunk(2, 0)[1].exp(), Randn(93, 4, 2)),
        ["unbind"] = () => GradCheck.Verify(a => a.unbind(1)[0] * a.unbind(1)[2], Randn(94, 2, 3)),
        ["masked_fill"] = () => GradCheck.Verify(a => a.masked_fill(a > 0, 2.0), Randn(95, 8)),
        ["diagonal"] = () => GradCheck.Verify(a => a.diagonal(1), Randn(96, 3, 4)),
        ["tril and triu"] = () => GradCheck.Verify(a => a.tril() * 2 + a.triu(1).exp(), Randn(97, 3, 3)),
        ["flip"] = () => GradCheck.Verify(a => a.flip(1).cumsum(1), Randn(98, 2, 3)),
        ["roll"] = () => GradCheck.Verify(a => a.roll([1], [1]).cumsum(1), Randn(99, 2, 3)),
        ["clone"] = () => GradCheck.Verify(a => a.clone().square(), Randn(100, 3)),
        ["free-function shapes"] = () => GradCheck.Verify(
            a => tril(transpose(permute(reshape(a, 2, 2, 2), 1, 0, 2), 0, 2).flatten(1).reshape(4, 2).mm(squeeze(unsqueeze(a.view(2, 4), 0), 0))),
            Randn(101, 8)),

        // joins and selection
        ["cat"] = () => GradCheck.Verify((a, b) => cat([a, b, a], 1), Randn(110, 2, 1), Randn(111, 2, 3)),
        ["stack"] = () => GradCheck.Verify((a, b) => stack([a, b], 1), Randn(112, 2, 3), Randn(113, 2, 3)),
        ["where tensors"] = () => GradCheck.Verify((a, b) => where(a > b, a, b * 2), Randn(114, 2, 3), Randn(115, 3)),
        ["where scalar other"] = () => GradCheck.Verify(a => where(a > 0, a.exp(), -1.0), Randn(116, 6)),
        ["where scalar input"] = () => GradCheck.Verify(a => where(a > 0, 3.0, a.sin()), Randn(117, 6)),
        ["index_select and gather free"] = () => GradCheck.Verify(
            a => gather(index_select(a, 1, Indices(1, 1)), 0, tensor(new long[] { 1, 0 }, [1, 2])), Randn(118, 2, 3)),
        ["masked_fill free"] = () => GradCheck.Verify(a => masked_fill(a, a < 0, -3.0), Randn(119, 6)),

        // matrix products
        ["mm"] = () => GradCheck.Verify((a, b) => a.mm(b), Randn(120, 2, 3), Randn(121, 3, 4)),
        ["matmul broadcast batch"] = () => GradCheck.Verify((a, b) => a.matmul(b), Randn(122, 2, 1, 2, 3), Randn(123, 3, 3, 2)),
        ["matmul vector"] = () => GradCheck.Verify((a, b) => matmul(a, b), Randn(124, 3), Randn(125, 2, 3, 2)),
        ["bmm"] = () => GradCheck.Verify((a, b) => bmm(a, b), Randn(126, 2, 2, 3), Randn(127, 2, 3, 2)),
        ["outer"] = () => GradCheck.Verify((a, b) => outer(a, b), Randn(128, 3), Randn(129, 2)),
        ["dot"] = () => GradCheck.Verify((a, b) => a.dot(b), Randn(130, 4), Randn(131, 4)),
        ["addmm"] = () => GradCheck.Verify((c, a, b) => addmm(c, a, b, beta: 0.5, alpha: 2), Randn(132, 3), Randn(133, 2, 4), Randn(134, 4, 3)),
        ["baddbmm"] = () => GradCheck.Verify((c, a, b) => baddbmm(c, a, b, beta: -1, alpha: 0.5), Randn(135, 2, 2, 2), Randn(136, 2, 2, 3), Randn(137, 2, 3, 2)),
        ["einsum contraction"] = () => GradCheck.Verify((a, b) => einsum("bij,bjk->bik", a, b), Randn(138, 2, 2, 3), Randn(139, 2, 3, 2)),
        ["einsum trace and outer"] = () => GradCheck.Verify((a, b) => einsum("ii,j->j", a, b), Randn(140, 3, 3), Randn(141, 2)),

        // free forms of pointwise functions
        ["free-function pointwise"] = () => GradCheck.Verify(
            (a, b) => exp(a) + log(abs(b)) + sqrt(square(b) + 1) + pow(tanh(a), 2) + sigmoid(a) * relu(b) + sin(a) * cos(b)
                + clamp(a, -0.3) + maximum(a, b) - minimum(a, b) + softmax(a, 0) + log_softmax(b, 0),
            Randn(150, 6), Randn(151, 6)),
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
}
