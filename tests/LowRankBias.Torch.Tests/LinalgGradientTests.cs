using static LowRankBias.Torch.Tests.TestData;

namespace LowRankBias.Torch.Tests;

/// <summary>
/// Autograd of the differentiable torch.linalg functions against finite differences. Decompositions are checked
/// through functions that do not depend on the sign (gauge) of singular and eigen vectors, and on inputs whose
/// singular values and eigenvalues are distinct, where those gradients are defined.
/// </summary>
public class LinalgGradientTests
{
    private static Tensor Symmetric(Tensor x) => (x + x.mT) / 2;

    private static readonly Dictionary<string, Action> s_cases = new()
    {
        ["svdvals"] = () => GradCheck.Verify(a => linalg.svdvals(a), Randn(1, 4, 3)),
        ["svdvals batched wide"] = () => GradCheck.Verify(a => linalg.svdvals(a), Randn(2, 2, 2, 3)),
        ["svd rank-2 truncation"] = () => GradCheck.Verify(a =>
        {
            var (u, s, vh) = linalg.svd(a, full_matrices: false);
            return (u.narrow(1, 0, 2) * s.narrow(0, 0, 2)).mm(vh.narrow(0, 0, 2));
        }, Randn(3, 4, 3)),
        ["qr reduced"] = () => GradCheck.Verify(a =>
        {
            var (q, r) = linalg.qr(a);
            return cat([q.flatten(), r.flatten()]);
        }, Randn(4, 4, 3)),
        ["eigh eigenvalues"] = () => GradCheck.Verify(a => linalg.eigh(Symmetric(a)).eigenvalues, Randn(5, 4, 4)),
        ["eigh matrix function"] = () => GradCheck.Verify(a =>
        {
            // V·diag(exp λ)·Vᵀ is the matrix exponential: independent of eigenvector signs, sensitive to all of them.
            var (l, v) = linalg.eigh(Symmetric(a));
            return (v * l.exp()).mm(v.mT);
        }, Randn(6, 3, 3)),
        ["eigh upper triangle"] = () => GradCheck.Verify(a => linalg.eigh(Symmetric(a), "U").eigenvalues, Randn(7, 3, 3)),
        ["matrix_norm fro"] = () => GradCheck.Verify(a => linalg.matrix_norm(a), Randn(10, 3, 4)),
        ["matrix_norm nuc"] = () => GradCheck.Verify(a => linalg.matrix_norm(a, "nuc"), Randn(11, 3, 4)),
        ["matrix_norm 2"] = () => GradCheck.Verify(a => linalg.matrix_norm(a, 2), Randn(12, 3, 4)),
        ["matrix_norm -2"] = () => GradCheck.Verify(a => linalg.matrix_norm(a, -2), Randn(13, 3, 4)),
        ["matrix_norm 1"] = () => GradCheck.Verify(a => linalg.matrix_norm(a, 1), Randn(14, 3, 4)),
        ["matrix_norm -1"] = () => GradCheck.Verify(a => linalg.matrix_norm(a, -1), Randn(15, 3, 4)),
        ["matrix_norm inf"] = () => GradCheck.Verify(a => linalg.matrix_norm(a, double.PositiveInfinity), Randn(16, 3, 4)),
        ["matrix_norm -inf"] = () => GradCheck.Verify(a => linalg.matrix_norm(a, double.NegativeInfinity), Randn(17, 3, 4)),
        ["matrix_norm batched keepdim"] = () => GradCheck.Verify(a => linalg.matrix_norm(a, "nuc", keepdim: true), Randn(18, 2, 3, 2)),
        ["vector_norm 2"] = () => GradCheck.Verify(a => linalg.vector_norm(a), Randn(20, 2, 3)),
        ["vector_norm 1 dim"] = () => GradCheck.Verify(a => linalg.vector_norm(a, 1, [1]), Randn(21, 2, 3)),
        ["vector_norm 3 keepdim"] = () => GradCheck.Verify(a => linalg.vector_norm(a, 3, [0], keepdim: true), Randn(22, 2, 3)),
        ["vector_norm inf"] = () => GradCheck.Verify(a => linalg.vector_norm(a, double.PositiveInfinity, [1]), Randn(23, 2, 3)),
        ["det"] = () => GradCheck.Verify(a => linalg.det(a), Randn(30, 3, 3)),
        ["slogdet"] = () => GradCheck.Verify(a => linalg.slogdet(a).logabsdet, Randn(31, 2, 3, 3)),
        ["pinv"] = () => GradCheck.Verify(a => linalg.pinv(a), Randn(32, 4, 3)),
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
