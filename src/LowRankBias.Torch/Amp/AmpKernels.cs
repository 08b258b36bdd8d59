namespace LowRankBias.Torch.Amp;

/// <summary>
/// libtorch's loss-scaling kernels where the device has them (CUDA; the CPU too from PyTorch 2.3), otherwise the same
/// arithmetic from ordinary ops. Either way every value stays on the device: nothing here reads back to the host.
/// </summary>
internal static class AmpKernels
{
    private static readonly Op s_unscale_ = new("aten::_amp_foreach_non_finite_check_and_unscale_");
    private static readonly Op s_updateScale_ = new("aten::_amp_update_scale_");

    /// <summary>Sets <paramref name="found_inf"/> to 1 when any of <paramref name="grads"/> (one device and dtype) holds
    /// an inf or NaN, then multiplies them in place by <paramref name="inv_scale"/>. Both are 0-d float32.</summary>
    public static void non_finite_check_and_unscale_(Tensor[] grads, Tensor found_inf, Tensor inv_scale)
    {
        if (s_unscale_.HasKernel(found_inf.device.Type))
        {
            s_unscale_.CallInPlace(grads, found_inf, inv_scale);
            return;
        }
        using var scope = torch.NewDisposeScope();
        Tensor allFinite = torch.stack(grads.Select(g => g.isfinite().all()).ToArray()).all();
        found_inf.masked_fill_(!allFinite, 1);
        foreach (Tensor g in grads) g.mul_(inv_scale);
    }

    /// <summary>
    /// After a step with inf/NaN gradients (<paramref name="found_inf"/> ≠ 0): scale ×= backoff and the tracker restarts.
    /// Otherwise the tracker counts the clean step; reaching <paramref name="growth_interval"/> it restarts and the scale
    /// grows by <paramref name="growth_factor"/> unless that would overflow float32. The products are taken in float64
    /// and rounded once, as the kernels do.
    /// </summary>
    public static void update_scale_(Tensor scale, Tensor growth_tracker, Tensor found_inf, double growth_factor, double backoff_factor,
        long growth_interval)
    {
        if (s_updateScale_.HasKernel(scale.device.Type))
        {
            s_updateScale_.CallInPlace(scale, growth_tracker, found_inf, growth_factor, backoff_factor, growth_interval);
            return;
        }
        using var scope = torch.NewDisposeScope();
        Tensor found = found_inf != 0.0;
        Tensor successful = growth_tracker + 1L;
        Tensor due = successful == growth_interval;
        Tensor current = scale.@double();
        Tensor grown = (current * growth_factor).@float();
        Tensor backedOff = (current * backoff_factor).@float();
        Tensor grow = due & grown.isfinite();
        scale.copy_(torch.where(found, backedOff, torch.where(grow, grown, scale)));
        growth_tracker.copy_(successful.masked_fill_(found | due, 0));
    }
}
