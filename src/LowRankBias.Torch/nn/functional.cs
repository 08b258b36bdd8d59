namespace LowRankBias.Torch;

public static partial class torch
{
    /// <summary><c>torch.nn</c>: neural-network building blocks.</summary>
    public static partial class nn
    {
        /// <summary>
        /// <c>torch.nn.functional</c>: stateless layer functions (convolutions, pooling, normalisation, activations,
        /// losses, attention). Argument names and defaults follow PyTorch; pairs such as stride take one value
        /// (used for both spatial dimensions) or two.
        /// </summary>
        public static partial class functional
        {
            /// <summary>ATen's reduction codes for a PyTorch reduction name.</summary>
            private static long ReductionCode(string reduction) => reduction switch
            {
                "none" => 0,
                "mean" => 1,
                "sum" => 2,
                _ => throw new ArgumentException($"reduction must be 'none', 'mean' or 'sum', not '{reduction}'", nameof(reduction)),
            };

            /// <summary>A (height, width) pair from one value, two values, or the default when null.</summary>
            private static long[] Pair(long[]? values, long fallback, string name) => values switch
            {
                null => [fallback, fallback],
                [long both] => [both, both],
                [_, _] => values,
                _ => throw new ArgumentException($"{name} takes one or two values, not {values.Length}", name),
            };
        }
    }
}
