using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch;

public static partial class torch
{
    public static partial class nn
    {
        public static partial class utils
        {
            /// <summary>
            /// A copy of <paramref name="conv"/> that computes bn(conv(x)) alone (PyTorch's
            /// <c>torch.nn.utils.fusion.fuse_conv_bn_eval</c>): BatchNorm in evaluation is a per-channel affine map of the
            /// convolution's output, so it folds into the kernel and bias (<see cref="fuse_conv_bn_weights"/>). Valid only
            /// while both are in evaluation and their tensors stay as they are: training either layer afterwards, or
            /// updating the BatchNorm's statistics, is not reflected in the fused copy, which holds its own tensors. Both
            /// layers must be in eval mode (<see cref="InvalidOperationException"/> otherwise), the BatchNorm must keep
            /// running statistics, and its channels must be the convolution's output channels (<see cref="ArgumentException"/>).
            /// </summary>
            public static Conv2d fuse_conv_bn_eval(Conv2d conv, BatchNorm2d bn)
            {
                ArgumentNullException.ThrowIfNull(bn);
                if (bn.training)
                    throw new InvalidOperationException("fuse_conv_bn_eval: bn is in training mode (it normalises with batch statistics); fusion is only for eval: call eval() first");
                if (!bn.track_running_stats)
                    throw new ArgumentException("fuse_conv_bn_eval: bn keeps no running statistics (track_running_stats = false), so it always normalises with batch statistics and cannot be folded", nameof(bn));
                return Fuse(conv, bn.num_features, bn.running_mean!, bn.running_var!, bn.eps, bn.weight, bn.bias);
            }

            /// <summary>As <see cref="fuse_conv_bn_eval(Conv2d, BatchNorm2d)"/> for a <see cref="FrozenBatchNorm2d"/>, which
            /// normalises with its stored statistics in either mode; <paramref name="conv"/> must be in eval mode.</summary>
            public static Conv2d fuse_conv_bn_eval(Conv2d conv, FrozenBatchNorm2d bn)
            {
                ArgumentNullException.ThrowIfNull(bn);
                return Fuse(conv, bn.num_features, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias);
            }

            /// <summary>
            /// The kernel and bias of a convolution followed by an evaluation-mode BatchNorm (PyTorch's
            /// <c>torch.nn.utils.fusion.fuse_conv_bn_weights</c>): with s = γ/√(var + eps) per output channel,
            /// w' = w·s and b' = (b − mean)·s + β; a missing <paramref name="conv_b"/> or β is 0, a missing γ is 1.
            /// Computed in float64 and returned in <paramref name="conv_w"/>'s dtype and device, as new tensors without
            /// autograd history. <paramref name="conv_w"/> is [C_out, …]; every other tensor must have C_out elements.
            /// </summary>
            public static (Tensor weight, Tensor bias) fuse_conv_bn_weights(Tensor conv_w, Tensor? conv_b, Tensor bn_rm, Tensor bn_rv, double bn_eps,
                Tensor? bn_w, Tensor? bn_b)
            {
                ArgumentNullException.ThrowIfNull(conv_w);
                ArgumentNullException.ThrowIfNull(bn_rm);
                ArgumentNullException.ThrowIfNull(bn_rv);
                if (conv_w.dim() < 2) throw new ArgumentException($"conv_w must be [C_out, C_in, …], got shape [{string.Join(", ", conv_w.shape)}]", nameof(conv_w));
                if (!(bn_eps >= 0)) throw new ArgumentOutOfRangeException(nameof(bn_eps), bn_eps, "bn_eps must be >= 0");
                long channels = conv_w.size(0);
                foreach ((Tensor? t, string name) in new[] { (conv_b, nameof(conv_b)), (bn_rm, nameof(bn_rm)), (bn_rv, nameof(bn_rv)), (bn_w, nameof(bn_w)), (bn_b, nameof(bn_b)) })
                    if (t is not null && (t.dim() != 1 || t.size(0) != channels))
                        throw new ArgumentException(
                            $"{name} has shape [{string.Join(", ", t.shape)}] but the convolution has {channels} output channels (conv_w [{string.Join(", ", conv_w.shape)}])", name);

                using var noGrad = no_grad();
                using var scope = NewDisposeScope();
                Tensor F64(Tensor t) => t.to(Device.CPU, ScalarType.Float64);
                Tensor scale = F64(bn_rv).add(bn_eps).rsqrt();
                if (bn_w is not null) scale = scale * F64(bn_w);
                long[] perChannel = [channels, .. Enumerable.Repeat(1L, (int)conv_w.dim() - 1)];
                Tensor weight = F64(conv_w) * scale.reshape(perChannel);
                Tensor bias = (conv_b is null ? -F64(bn_rm) : F64(conv_b) - F64(bn_rm)) * scale;
                if (bn_b is not null) bias = bias + F64(bn_b);
                return (weight.to(conv_w.device, conv_w.dtype).MoveToOuterDisposeScope(), bias.to(conv_w.device, conv_w.dtype).MoveToOuterDisposeScope());
            }

            private static Conv2d Fuse(Conv2d conv, long bnChannels, Tensor mean, Tensor variance, double eps, Tensor? gamma, Tensor? beta)
            {
                ArgumentNullException.ThrowIfNull(conv);
                if (conv.training)
                    throw new InvalidOperationException("fuse_conv_bn_eval: conv is in training mode; fusion is only for eval (the fused copy would not follow training): call eval() first");
                if (bnChannels != conv.out_channels)
                    throw new ArgumentException($"fuse_conv_bn_eval: bn has {bnChannels} channels but conv has {conv.out_channels} output channels", "bn");
                (Tensor weight, Tensor bias) = fuse_conv_bn_weights(conv.weight, conv.bias, mean, variance, eps, gamma, beta);
                using (weight)
                using (bias)
                {
                    var fused = new Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.dilation, conv.groups,
                        bias: true, device: conv.weight.device, dtype: conv.weight.dtype);
                    using var noGrad = no_grad();
                    fused.weight.copy_(weight);
                    fused.bias!.copy_(bias);
                    fused.eval();
                    return fused;
                }
            }
        }
    }
}
