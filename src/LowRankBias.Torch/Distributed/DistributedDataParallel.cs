using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Distributed;

/// <summary>
/// Data-parallel training over a <see cref="ProcessGroup"/> (<c>torch.nn.parallel.DistributedDataParallel</c>):
/// rank 0's parameters and buffers are broadcast at construction, each rank runs <see cref="forward"/> on its own
/// samples, and <see cref="all_reduce_gradients"/> — called between <c>backward()</c> and <c>optimizer.step()</c>,
/// where PyTorch's autograd hooks would do it — replaces every gradient by its mean over the ranks (one all-reduce
/// per dtype). The wrapped model is the child <c>module</c>, so state-dict keys read <c>module.…</c> as in PyTorch.
/// </summary>
public sealed class DistributedDataParallel : Module
{
    /// <summary>Wraps <paramref name="module"/>; every rank calls this constructor with the same architecture.</summary>
    public DistributedDataParallel(Module module, ProcessGroup process_group)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(process_group);
        this.module = module;
        this.process_group = process_group;
        process_group.CheckSameConfiguration("DDP model", new { Model = ModelFingerprint.Of(module) });
        using var noGrad = torch.no_grad();
        foreach (Tensor t in module.parameters().Concat(module.buffers())) process_group.broadcast(t, src: 0);
    }

    /// <summary>The wrapped model.</summary>
    public Module module { get; }

    /// <summary>The group gradients are averaged over.</summary>
    public ProcessGroup process_group { get; }

    /// <summary>The wrapped model's output.</summary>
    public override Tensor forward(Tensor input) => module.call(input);

    /// <summary>Replaces each trainable parameter's gradient by its mean over the ranks (missing gradients count as zero).</summary>
    public void all_reduce_gradients()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor[] trained = module.parameters().Where(p => p.requires_grad).ToArray();
        foreach (IGrouping<ScalarType, Tensor> sameType in trained.GroupBy(p => p.dtype))
        {
            Tensor[] members = sameType.ToArray();
            Tensor flat = torch.cat(members.Select(p => (p.grad ?? torch.zeros_like(p)).reshape(-1)).ToArray());
            process_group.all_reduce(flat);
            flat.div_(process_group.world_size);
            long offset = 0;
            foreach (Tensor p in members)
            {
                Tensor mean = flat.narrow(0, offset, p.numel()).view(p.shape);
                if (p.grad is { } g) g.copy_(mean);
                else p.grad = mean.clone();
                offset += p.numel();
            }
        }
    }
}
