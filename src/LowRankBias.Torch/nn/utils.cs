using LowRankBias.Torch.Optim;

namespace LowRankBias.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary><c>torch.nn.utils</c>: training utilities.</summary>
        public static partial class utils
        {
            private static readonly Op s_stack = new("aten::stack");

            /// <summary>
            /// Scales the gradients of <paramref name="parameters"/> in place so that their global
            /// <paramref name="norm_type"/>-norm (the norm of all gradients taken as one vector) is at most
            /// <paramref name="max_norm"/>; returns the norm before clipping. Parameters without a gradient are ignored.
            /// </summary>
            public static double clip_grad_norm_(IEnumerable<Tensor> parameters, double max_norm, double norm_type = 2, bool error_if_nonfinite = false)
            {
                ArgumentNullException.ThrowIfNull(parameters);
                if (!(max_norm >= 0)) throw new ArgumentOutOfRangeException(nameof(max_norm), max_norm, "max_norm must be >= 0");
                if (!(norm_type > 0)) throw new ArgumentOutOfRangeException(nameof(norm_type), norm_type, "norm_type must be > 0 (or +infinity)");
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                Tensor[] grads = parameters.Select(p => p.grad).OfType<Tensor>().ToArray();
                if (grads.Length == 0) return 0;

                // Per-tensor norms, gathered on one device in float32, then the norm of those norms.
                Device device = grads[0].device;
                Tensor[] norms = Foreach.norm(grads, norm_type).Select(n => n.to(device, ScalarType.Float32)).ToArray();
                double total = s_stack.Call(norms).norm(norm_type).item<float>();
                if (error_if_nonfinite && !double.IsFinite(total))
                    throw new InvalidOperationException($"the total {norm_type}-norm of the gradients is {total}; pass error_if_nonfinite = false to clip anyway");

                double coefficient = max_norm / (total + 1e-6);
                if (coefficient < 1) Foreach.mul_(grads, coefficient);
                return total;
            }
        }
    }
}
