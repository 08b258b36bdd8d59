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
                CheckIndices(input, weight.size(0));
                return s_embedding.Call(weight, input, padding);
            }

            // libtorch says only "index out of range in self". On the CPU, where looking costs no device
            // synchronisation, name the index and the table instead.
            private static void CheckIndices(Tensor input, long rows)
            {
                if (input.device.Type != DeviceType.CPU || input.numel() == 0 || input.dtype is not (ScalarType.Int64 or ScalarType.Int32)) return;
                long low, high;
                using (Tensor min = input.min(), max = input.max(), min64 = min.to(ScalarType.Int64), max64 = max.to(ScalarType.Int64))
                    (low, high) = (min64.item<long>(), max64.item<long>());
                if (low >= 0 && high < rows) return;
                throw new ArgumentOutOfRangeException(nameof(input),
                    $"embedding: index {(low < 0 ? low : high)} is out of range for a table of {rows} rows (indices must lie in [0, {rows}))");
            }

            /// <summary>int64 one-hot vectors (a new last dimension) for class indices; num_classes −1 infers max + 1.</summary>
            public static Tensor one_hot(Tensor tensor, long num_classes = -1) => s_oneHot.Call(tensor, num_classes);
        }
    }
}
