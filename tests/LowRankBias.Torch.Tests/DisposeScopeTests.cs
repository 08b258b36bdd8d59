using static LowRankBias.Torch.Tests.TestData;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Tests;

/// <summary>Dispose scopes free exactly what they own: long training loops and library calls leak no native tensors.</summary>
[Collection(SerialCollection.Name)]
public class DisposeScopeTests
{
    /// <summary>Finalises garbage left by earlier tests so that <see cref="Tensor.LiveCount"/> only moves with this test's tensors.</summary>
    private static long SettledLiveCount()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return Tensor.LiveCount;
    }

    [Fact]
    public void TwoThousandTrainingStepsLeaveLiveCountUnchanged()
    {
        using DisposeScope outer = NewDisposeScope();
        Tensor x = Randn(1, 16, 4).@float(), y = tensor(Enumerable.Range(0, 16).Select(i => (long)(i % 3)).ToArray());
        Tensor[] parameters =
        [
            (Randn(2, 4, 16) * 0.5).@float().requires_grad_(), zeros([16], requires_grad: true),
            (Randn(3, 16, 3) * 0.5).@float().requires_grad_(), zeros([3], requires_grad: true),
        ];
        long start = SettledLiveCount();
        float firstLoss = 0, lastLoss = 0;

        for (int step = 0; step < 2000; step++)
        {
            using DisposeScope scope = NewDisposeScope();
            Tensor hidden = (x.mm(parameters[0]) + parameters[1]).relu();
            Tensor loss = F.cross_entropy(hidden.mm(parameters[2]) + parameters[3], y);
            loss.backward();
            using (no_grad())
                foreach (Tensor p in parameters) p.sub_(p.grad!, alpha: 0.1);
            foreach (Tensor p in parameters) p.grad = null;

            if (step == 0) firstLoss = loss.item<float>();
            lastLoss = loss.item<float>();
        }

        Assert.Equal(start, Tensor.LiveCount);
        Assert.True(lastLoss < firstLoss / 2, $"the loop should train: loss {firstLoss} -> {lastLoss}");
    }

    [Fact]
    public void NestedScopesFreeOnlyTheirOwnTensors()
    {
        long start = SettledLiveCount();
        var outer = NewDisposeScope();
        Tensor a = ones([2]);
        Tensor b, c;
        using (NewDisposeScope())
        {
            b = a + 1;
            c = b.exp();
            Assert.Equal(start + 3, Tensor.LiveCount);
        }
        Assert.True(b.IsDisposed);
        Assert.True(c.IsDisposed);
        Assert.False(a.IsDisposed);
        Assert.Same(outer, DisposeScope.Current);
        outer.Dispose();
        Assert.True(a.IsDisposed);
        Assert.Null(DisposeScope.Current);
        Assert.Equal(start, Tensor.LiveCount);
    }

    [Fact]
    public void MoveToOuterDisposeScopeHandsTheTensorToTheEnclosingScope()
    {
        long start = SettledLiveCount();
        Tensor kept;
        using (DisposeScope outer = NewDisposeScope())
        {
            using (NewDisposeScope())
            {
                Tensor temporary = ones([3]);
                kept = (temporary * 2).MoveToOuterDisposeScope();
            }
            Assert.False(kept.IsDisposed);
            Assert.Equal([2f, 2, 2], kept.ToArray<float>());
            Assert.Equal(1, outer.Count);
        }
        Assert.True(kept.IsDisposed);
        Assert.Equal(start, Tensor.LiveCount);
    }

    [Fact]
    public void MoveToOuterDisposeScopeFromTheOutermostScopeGivesOwnershipToTheCaller()
    {
        long start = SettledLiveCount();
        Tensor kept;
        using (NewDisposeScope()) kept = ones([2]).MoveToOuterDisposeScope();
        Assert.False(kept.IsDisposed);
        kept.Dispose();
        Assert.Equal(start, Tensor.LiveCount);
    }

    [Fact]
    public void DetachFromDisposeScopeSurvivesEveryScope()
    {
        long start = SettledLiveCount();
        Tensor detached;
        using (NewDisposeScope())
        {
            using (NewDisposeScope()) detached = ones([2]).DetachFromDisposeScope();
        }
        Assert.False(detached.IsDisposed);
        Assert.Equal(start + 1, Tensor.LiveCount);
        detached.Dispose();
        Assert.Equal(start, Tensor.LiveCount);
    }

    [Fact]
    public void DisposingATensorEarlyDoesNotConfuseItsScope()
    {
        long start = SettledLiveCount();
        using (DisposeScope scope = NewDisposeScope())
        {
            Tensor a = ones([2]);
            _ = a * 3;
            a.Dispose();
            a.Dispose();
            Assert.Equal(1, scope.Count);
        }
        Assert.Equal(start, Tensor.LiveCount);
    }

    [Fact]
    public void DisposingScopesOutOfOrderThrows()
    {
        long start = SettledLiveCount();
        DisposeScope outer = NewDisposeScope();
        DisposeScope inner = NewDisposeScope();
        Tensor t = ones([2]);
        Assert.Throws<InvalidOperationException>(() => outer.Dispose());
        // Nothing was freed, and the scopes still end correctly in LIFO order.
        Assert.False(t.IsDisposed);
        inner.Dispose();
        outer.Dispose();
        Assert.True(t.IsDisposed);
        Assert.Equal(start, Tensor.LiveCount);
    }

    [Fact]
    public void LibraryFunctionsLeaveNoTemporariesBehind()
    {
        using DisposeScope inputs = NewDisposeScope();
        Tensor q = Randn(1, 2, 3, 4), x = Randn(2, 1, 2, 5, 5), w = Randn(3, 3, 2, 3, 3), logits = Randn(4, 4, 3);
        Tensor classes = tensor(new long[] { 0, 2, 1, 1 }), a = Randn(5, 4, 3), causal = ones([3, 3], ScalarType.Bool).tril();
        long start = SettledLiveCount();

        // Called outside any scope: every tensor a call creates is either returned (and disposed here) or freed inside.
        var (u, s, vh) = linalg.svd(a, full_matrices: false);
        Tensor[] results =
        [
            u, s, vh,
            F.scaled_dot_product_attention(q, q, q, is_causal: true),
            F.scaled_dot_product_attention(q, q, q, causal),
            F.conv2d(x, w, stride: [2], padding: [1]),
            F.cross_entropy(logits, classes, label_smoothing: 0.1),
            F.embedding(classes, a, padding_idx: 0),
            F.max_pool2d(x, [2]),
            linalg.matrix_norm(a, "nuc"),
            .. a.split(2),
        ];
        Assert.Equal(start + results.Length, Tensor.LiveCount);
        foreach (Tensor r in results) r.Dispose();
        Assert.Equal(start, Tensor.LiveCount);
    }
}
