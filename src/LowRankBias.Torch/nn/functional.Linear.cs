namespace LowRankBias.Torch;

public static partial class torch
{
    public static partial class nn
    {
        // Affine maps and lookup tables.
        public static partial class functional
        {
            private static readonly Op s_linear = new("aten::linear"), s_embedding = new("aten::embedding"), s_oneHot = new("aten::one_hot");

            /// <summary>x·Wᵀ + b for weight W of shape out×in.</summary>
            public static Tensor linear(Tensor input, Tensor weight, Tensor? bias = null) => s_linear.Call(input, weight, bias);

            /// <summary>
            /// Rows of <paramref name="weight"/> at the int64 indices in <paramref name="input"/>; the row at
            /// <paramref name="padding_idx"/> (negative counts from the end) gets no gradient.
            /// </summary>
            public static Tensor embedding(Tensor input, Tensor weight, long? padding_idx = null)
            {
                long padding = -1;
                if (padding_idx is long index)
                {
                    long rows = weight.size(0);
                    padding = index < 0 ? index + rows : index;
                    if (padding < 0 || padding >= rows)
                        throw new ArgumentOutOfRangeException(nameof(padding_idx), index, $"padding_idx must index one of the {rows} rows of weight");
                }
                return s_embedding.Call(weight, input, padding);
            }

            /// <summary>int64 one-hot vectors (a new last dimension) for class indices; num_classes −1 infers max + 1.</summary>
            public static Tensor one_hot(Tensor tensor, long num_classes = -1) => s_oneHot.Call(tensor, num_classes);
        }
    }
}
