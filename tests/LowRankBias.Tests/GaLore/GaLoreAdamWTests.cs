using LowRankBias.GaLore;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Tests;
using MathNet.Numerics.LinearAlgebra;

namespace LowRankBias.Tests.GaLore;

/// <summary>GaLore's update against the recurrence written out in float64 with MathNet's SVD.</summary>
public sealed class GaLoreAdamWTests
{
    private static readonly GaLoreOptions Options = new()
    {
        rank = 2, update_proj_gap = 10, scale = 0.5, lr = 0.1, weight_decay = 0.1, betas = (0.9, 0.99), eps = 1e-8,
    };

    // The gradient of ½‖W − T‖² + ⅙ Σ W³: G = W − T + ½ W∘W, so it changes as W moves.
    private static Matrix<double> Gradient(Matrix<double> w, Matrix<double> target) => w - target + 0.5 * w.PointwiseMultiply(w);

    [Theory]
    [InlineData(4, 6)] // m ≤ n: projected from the left
    [InlineData(6, 4)] // m > n: from the right
    public void ThreeStepsFollowTheProjectedAdamRecurrence(int m, int n)
    {
        using var scope = NewDisposeScope();
        Matrix<double> w = Matrix<double>.Build.Dense(m, n, (i, j) => Math.Sin(1 + i * n + j)), target = Matrix<double>.Build.Dense(m, n, (i, j) => Math.Cos(3 * i - j));
        Tensor weight = tensor(w.ToRowMajorArray(), [m, n]).requires_grad_();
        Tensor goal = tensor(target.ToRowMajorArray(), [m, n]);
        using var optimizer = new GaLoreAdamW([new ParamGroup([weight], Options)]);

        bool left = m <= n;
        Matrix<double> p = null!, moment1 = null!, moment2 = null!;
        for (int t = 1; t <= 3; t++)
        {
            optimizer.zero_grad();
            Tensor diff = weight - goal;
            (0.5 * (diff * diff).sum() + (weight * weight * weight).sum() / 6).backward();
            optimizer.step();

            Matrix<double> g = Gradient(w, target);
            if (t == 1)
            {
                var svd = g.Svd(computeVectors: true);
                p = left ? svd.U.SubMatrix(0, m, 0, 2) : svd.VT.SubMatrix(0, 2, 0, n).Transpose();
            }
            Matrix<double> r = left ? p.TransposeThisAndMultiply(g) : g * p;
            moment1 = t == 1 ? 0.1 * r : 0.9 * moment1 + 0.1 * r;
            moment2 = t == 1 ? 0.01 * r.PointwiseMultiply(r) : 0.99 * moment2 + 0.01 * r.PointwiseMultiply(r);
            Matrix<double> normalized = (moment1 / (1 - Math.Pow(0.9, t))).PointwiseDivide((moment2 / (1 - Math.Pow(0.99, t))).PointwiseSqrt() + 1e-8);
            Matrix<double> update = left ? p * normalized : normalized * p.Transpose();
            w = w * (1 - 0.1 * 0.1) - 0.1 * 0.5 * update;
        }
        TestData.AssertClose(w.ToRowMajorArray(), weight, 1e-10);
    }

    [Fact]
    public void TheProjectorIsRefreshedToTheCurrentGradientsTopSubspace()
    {
        using var scope = NewDisposeScope();
        Matrix<double> w = Matrix<double>.Build.Dense(5, 7, (i, j) => Math.Sin(2 + i * 7 + j)), target = Matrix<double>.Build.Dense(5, 7, (i, j) => Math.Cos(i + 2 * j));
        Tensor weight = tensor(w.ToRowMajorArray(), [5, 7]).requires_grad_();
        Tensor goal = tensor(target.ToRowMajorArray(), [5, 7]);
        using var optimizer = new GaLoreAdamW([new ParamGroup([weight], Options with { update_proj_gap = 2 })]);
        for (int t = 1; t <= 3; t++)
        {
            if (t == 3) w = Matrix<double>.Build.DenseOfRowMajor(5, 7, weight.detach().ToArray<double>()); // the weights the refresh sees
            optimizer.zero_grad();
            Tensor diff = weight - goal;
            (0.5 * (diff * diff).sum() + (weight * weight * weight).sum() / 6).backward();
            optimizer.step();
        }
        // Step 3 starts a new period: P spans the top-2 left singular vectors of that step's gradient (PPᵀ is sign-free).
        using OptimizerStateDict state = optimizer.state_dict();
        Matrix<double> p = Matrix<double>.Build.DenseOfRowMajor(5, 2, state.state[0].tensors["projector"].ToArray<double>());
        Matrix<double> u = Gradient(w, target).Svd(computeVectors: true).U.SubMatrix(0, 5, 0, 2);
        TestData.AssertClose((u * u.Transpose()).ToRowMajorArray(), tensor((p * p.Transpose()).ToRowMajorArray(), [25]), 1e-10);
    }

    [Fact]
    public void VectorsTakePlainAdamWStepsAndBadOptionsAreRefused()
    {
        using var scope = NewDisposeScope();
        Tensor a = tensor(new[] { 0.5, -1.0, 2.0 }).requires_grad_(), b = a.detach().clone().requires_grad_();
        using var galore = GaLoreAdamW.ForModel([a], Options);
        using var adamW = new AdamW([b], lr: 0.1, betas: (0.9, 0.99), eps: 1e-8, weight_decay: 0.1);
        for (int t = 0; t < 3; t++)
        {
            foreach ((Tensor x, Optimizer o) in new[] { (a, (Optimizer)galore), (b, adamW) })
            {
                o.zero_grad();
                (x * x * x).sum().backward();
                o.step();
            }
        }
        TestData.AssertClose(b.detach().ToArray<double>(), a, 1e-12);
        Assert.Throws<ArgumentOutOfRangeException>(() => new GaLoreAdamW([new ParamGroup([a], Options with { rank = -1 })]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GaLoreAdamW([new ParamGroup([a], Options with { update_proj_gap = 0 })]));
    }
}
