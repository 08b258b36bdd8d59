namespace LowRankBias.Torch;

public static partial class torch
{
    public static partial class nn
    {
        // Non-linear activations; the element-wise ones forward to the Tensor methods of the same name.
        public static partial class functional
        {
            /// <summary>max(x, 0)</summary>
            public static Tensor relu(Tensor input) => input.relu();

            /// <summary>max(x, 0), overwriting <paramref name="input"/> (PyTorch's <c>F.relu_</c>); returns it.</summary>
            public static Tensor relu_(Tensor input) => input.relu_();

            /// <summary>x·sigmoid(x)</summary>
            public static Tensor silu(Tensor input) => input.silu();

            /// <summary>x·Φ(x); <paramref name="approximate"/> = "tanh" selects the tanh approximation.</summary>
            public static Tensor gelu(Tensor input, string approximate = "none") => input.gelu(approximate);

            /// <summary>Hyperbolic tangent.</summary>
            public static Tensor tanh(Tensor input) => input.tanh();

            /// <summary>Logistic sigmoid.</summary>
            public static Tensor sigmoid(Tensor input) => input.sigmoid();

            /// <summary>Softmax along <paramref name="dim"/>.</summary>
            public static Tensor softmax(Tensor input, long dim, ScalarType? dtype = null) => input.softmax(dim, dtype);

            /// <summary>log(softmax) along <paramref name="dim"/>, computed stably.</summary>
            public static Tensor log_softmax(Tensor input, long dim, ScalarType? dtype = null) => input.log_softmax(dim, dtype);
        }
    }
}
