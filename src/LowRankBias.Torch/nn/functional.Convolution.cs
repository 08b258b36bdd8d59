namespace LowRankBias.Torch;

public static partial class torch
{
    public static partial class nn
    {
        // 2-D convolution, pooling and padding of N×C×H×W inputs.
        public static partial class functional
        {
            private static readonly Op s_conv2d = new("aten::conv2d"), s_maxPool2d = new("aten::max_pool2d");
            private static readonly Op s_avgPool2d = new("aten::avg_pool2d"), s_adaptiveAvgPool2d = new("aten::adaptive_avg_pool2d");
            private static readonly Op s_pad = new("aten::pad");

            /// <summary>
            /// 2-D cross-correlation of input (N×C_in×H×W) with weight (C_out×C_in/groups×kH×kW), plus bias (C_out).
            /// stride and dilation default to 1, padding (zeros on both sides) to 0.
            /// </summary>
            public static Tensor conv2d(Tensor input, Tensor weight, Tensor? bias = null, long[]? stride = null, long[]? padding = null,
                long[]? dilation = null, long groups = 1) =>
                s_conv2d.Call(input, weight, bias, Pair(stride, 1, nameof(stride)), Pair(padding, 0, nameof(padding)),
                    Pair(dilation, 1, nameof(dilation)), groups);

            /// <summary>Maximum over kernel_size windows; stride defaults to kernel_size, padding is −∞.</summary>
            public static Tensor max_pool2d(Tensor input, long[] kernel_size, long[]? stride = null, long[]? padding = null,
                long[]? dilation = null, bool ceil_mode = false)
            {
                long[] kernel = Pair(kernel_size, 0, nameof(kernel_size));
                return s_maxPool2d.Call(input, kernel, stride is null ? kernel : Pair(stride, 0, nameof(stride)),
                    Pair(padding, 0, nameof(padding)), Pair(dilation, 1, nameof(dilation)), ceil_mode);
            }

            /// <summary>
            /// Mean over kernel_size windows; stride defaults to kernel_size. Zero padding counts in the divisor unless
            /// <paramref name="count_include_pad"/> is false; <paramref name="divisor_override"/> replaces the divisor.
            /// </summary>
            public static Tensor avg_pool2d(Tensor input, long[] kernel_size, long[]? stride = null, long[]? padding = null,
                bool ceil_mode = false, bool count_include_pad = true, long? divisor_override = null)
            {
                long[] kernel = Pair(kernel_size, 0, nameof(kernel_size));
                return s_avgPool2d.Call(input, kernel, stride is null ? kernel : Pair(stride, 0, nameof(stride)),
                    Pair(padding, 0, nameof(padding)), ceil_mode, count_include_pad, divisor_override);
            }

            /// <summary>Mean pooling to a fixed output_size (H_out, W_out), windows chosen to cover the input evenly.</summary>
            public static Tensor adaptive_avg_pool2d(Tensor input, long[] output_size) =>
                s_adaptiveAvgPool2d.Call(input, Pair(output_size, 0, nameof(output_size)));

            /// <summary>
            /// Pads the last dimensions: <paramref name="pad"/> lists (left, right) sizes starting from the last dimension.
            /// mode is "constant" (filled with value, default 0), "reflect", "replicate" or "circular".
            /// </summary>
            public static Tensor pad(Tensor input, long[] pad, string mode = "constant", double? value = null) =>
                s_pad.Call(input, pad, mode, value);
        }
    }
}
