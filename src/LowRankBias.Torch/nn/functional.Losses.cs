namespace LowRankBias.Torch;

public static partial class torch
{
    public static partial class nn
    {
        // Loss functions. reduction is "mean" (the default), "sum" or "none" (one loss per element or sample).
        public static partial class functional
        {
            private static readonly Op s_crossEntropy = new("aten::cross_entropy_loss"), s_nllLoss = new("aten::nll_loss_nd");
            private static readonly Op s_mseLoss = new("aten::mse_loss"), s_bceWithLogits = new("aten::binary_cross_entropy_with_logits");

            /// <summary>
            /// Cross-entropy between logits (N×C or N×C×d…) and targets that are either class indices (int64, N or N×d…)
            /// or class probabilities (shaped like input). <paramref name="weight"/> rescales classes; targets equal to
            /// <paramref name="ignore_index"/> are skipped; <paramref name="label_smoothing"/> ε mixes the target with the
            /// uniform distribution: (1 − ε)·target + ε/C.
            /// </summary>
            public static Tensor cross_entropy(Tensor input, Tensor target, Tensor? weight = null, long ignore_index = -100,
                string reduction = "mean", double label_smoothing = 0.0) =>
                s_crossEntropy.Call(input, target, weight, ReductionCode(reduction), ignore_index, label_smoothing);

            /// <summary>Negative log-likelihood of class-index targets given log-probabilities (N×C or N×C×d…).</summary>
            public static Tensor nll_loss(Tensor input, Tensor target, Tensor? weight = null, long ignore_index = -100, string reduction = "mean") =>
                s_nllLoss.Call(input, target, weight, ReductionCode(reduction), ignore_index);

            /// <summary>Squared error (input − target)².</summary>
            public static Tensor mse_loss(Tensor input, Tensor target, string reduction = "mean") =>
                s_mseLoss.Call(input, target, ReductionCode(reduction));

            /// <summary>
            /// −[pos_weight·t·log σ(x) + (1 − t)·log(1 − σ(x))], computed stably from logits x; <paramref name="weight"/>
            /// rescales elements and <paramref name="pos_weight"/> positive examples (per class, broadcast over the last dimension).
            /// </summary>
            public static Tensor binary_cross_entropy_with_logits(Tensor input, Tensor target, Tensor? weight = null, string reduction = "mean",
                Tensor? pos_weight = null) =>
                s_bceWithLogits.Call(input, target, weight, pos_weight, ReductionCode(reduction));
        }
    }
}
