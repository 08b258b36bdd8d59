namespace LowRankBias.Torch;

public static partial class torch
{
    public static partial class nn
    {
        // Normalisation layers: (x − mean) / √(var + eps) · weight + bias, with the biased variance.
        public static partial class functional
        {
            private static readonly Op s_layerNorm = new("aten::layer_norm"), s_batchNorm = new("aten::batch_norm");
            private static readonly Op s_groupNorm = new("aten::group_norm");

            /// <summary>Normalises over the trailing dimensions given by <paramref name="normalized_shape"/>, per sample.</summary>
            public static Tensor layer_norm(Tensor input, long[] normalized_shape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5) =>
                s_layerNorm.Call(input, normalized_shape, weight, bias, eps);

            /// <summary>
            /// Normalises each channel (dimension 1) over the batch and spatial dimensions. When
            /// <paramref name="training"/> it uses the batch's statistics and updates the running ones in place
            /// (running = (1 − momentum)·running + momentum·batch, with the unbiased batch variance); otherwise it uses
            /// the running statistics, which are then required.
            /// </summary>
            public static Tensor batch_norm(Tensor input, Tensor? running_mean, Tensor? running_var, Tensor? weight = null, Tensor? bias = null,
                bool training = false, double momentum = 0.1, double eps = 1e-5) =>
                s_batchNorm.Call(input, weight, bias, running_mean, running_var, training, momentum, eps, true);

            /// <summary>Splits the channels (dimension 1) into <paramref name="num_groups"/> groups and normalises each group per sample.</summary>
            public static Tensor group_norm(Tensor input, long num_groups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5) =>
                s_groupNorm.Call(input, num_groups, weight, bias, eps);
        }
    }
}
