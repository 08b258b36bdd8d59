namespace LowRankBias.Torch;

public static partial class torch
{
    /// <summary><c>torch.nn.*</c>: initialisers, functional forms and utilities (modules live in <c>LowRankBias.Torch.Modules</c>).</summary>
    public static partial class nn
    {
        /// <summary>
        /// Weight initialisers (<c>torch.nn.init</c>). Each fills its tensor in place without autograd and returns it.
        /// Fans follow PyTorch: for a weight [out, in, k…], fan_in = in·∏k and fan_out = out·∏k. Given a
        /// <see cref="Generator"/>, they draw from it alone (on the CPU, then copy to the tensor's device), so a seed
        /// gives the same values on every device and whatever other threads draw meanwhile.
        /// </summary>
        public static class init
        {
            private static readonly Op s_erfinv_ = new("aten::erfinv_"), s_erf = new("aten::erf"), s_qr = new("aten::linalg_qr");

            /// <summary>The gain that keeps activations' variance through <paramref name="nonlinearity"/>: 1 for linear,
            /// conv and sigmoid, 5/3 for tanh, √2 for relu, √(2/(1+slope²)) for leaky_relu (slope =
            /// <paramref name="param"/>, default 0.01), 3/4 for selu.</summary>
            public static double calculate_gain(string nonlinearity, double? param = null) => nonlinearity switch
            {
                "linear" or "identity" or "sigmoid" or "conv1d" or "conv2d" or "conv3d"
                    or "conv_transpose1d" or "conv_transpose2d" or "conv_transpose3d" => 1.0,
                "tanh" => 5.0 / 3,
                "relu" => Math.Sqrt(2.0),
                "leaky_relu" => Math.Sqrt(2.0 / (1 + Math.Pow(param ?? 0.01, 2))),
                "selu" => 0.75,
                _ => throw new ArgumentException(
                    $"unknown nonlinearity '{nonlinearity}': expected linear, identity, sigmoid, tanh, relu, leaky_relu, selu or conv*", nameof(nonlinearity)),
            };

            /// <summary>(fan_in, fan_out) of a weight of shape [out, in, k…].</summary>
            public static (long fan_in, long fan_out) calculate_fan_in_and_fan_out(Tensor tensor)
            {
                long[] shape = tensor.shape;
                if (shape.Length < 2)
                    throw new ArgumentException($"fan in and fan out need a tensor with at least 2 dimensions, got shape [{string.Join(", ", shape)}]", nameof(tensor));
                long receptive = 1;
                for (int i = 2; i < shape.Length; i++) receptive *= shape[i];
                return (shape[1] * receptive, shape[0] * receptive);
            }

            /// <summary>Fills with U(<paramref name="a"/>, <paramref name="b"/>).</summary>
            public static Tensor uniform_(Tensor tensor, double a = 0, double b = 1, Generator? generator = null) =>
                Fill(tensor, generator, t => t.uniform_(a, b, generator));

            /// <summary>Fills with N(<paramref name="mean"/>, <paramref name="std"/>²).</summary>
            public static Tensor normal_(Tensor tensor, double mean = 0, double std = 1, Generator? generator = null) =>
                Fill(tensor, generator, t => t.normal_(mean, std, generator));

            // Runs the draw without autograd, on a CPU copy when a generator (CPU-only) fills a tensor elsewhere.
            private static Tensor Fill(Tensor tensor, Generator? generator, Action<Tensor> draw)
            {
                using var _ = no_grad();
                if (generator is null || tensor.device.Type == DeviceType.CPU)
                {
                    draw(tensor);
                    return tensor;
                }
                using Tensor host = empty(tensor.shape, tensor.dtype);
                draw(host);
                return tensor.copy_(host);
            }

            /// <summary>Fills with N(mean, std²) restricted to [<paramref name="a"/>, <paramref name="b"/>] (absolute bounds).</summary>
            public static Tensor trunc_normal_(Tensor tensor, double mean = 0, double std = 1, double a = -2, double b = 2, Generator? generator = null)
            {
                ArgumentOutOfRangeException.ThrowIfNegativeOrZero(std);
                if (!(a < b)) throw new ArgumentException($"trunc_normal_ needs a < b, got a = {a}, b = {b}");
                using var _ = no_grad();
                // Inverse-CDF sampling: u uniform between the CDF values of the bounds, mapped back through
                // Φ⁻¹(p) = √2·erfinv(2p − 1). Working on the erf scale (2p − 1) avoids forming p.
                double[] erfBounds = ErfOf((a - mean) / (std * Math.Sqrt(2)), (b - mean) / (std * Math.Sqrt(2)));
                uniform_(tensor, erfBounds[0], erfBounds[1], generator);
                s_erfinv_.CallInPlace(tensor);
                return tensor.mul_(std * Math.Sqrt(2)).add_(mean).clamp_(a, b);
            }

            private static double[] ErfOf(double x, double y)
            {
                using Tensor points = tensor(new[] { x, y });
                using Tensor values = s_erf.Call(points);
                return values.ToArray<double>();
            }

            /// <summary>Fills with <paramref name="val"/>.</summary>
            public static Tensor constant_(Tensor tensor, double val)
            {
                using var _ = no_grad();
                return tensor.fill_(val);
            }

            /// <summary>Fills with zeros.</summary>
            public static Tensor zeros_(Tensor tensor) => constant_(tensor, 0);

            /// <summary>Fills with ones.</summary>
            public static Tensor ones_(Tensor tensor) => constant_(tensor, 1);

            /// <summary>Glorot: U(−a, a) with a = gain·√(6/(fan_in + fan_out)).</summary>
            public static Tensor xavier_uniform_(Tensor tensor, double gain = 1, Generator? generator = null)
            {
                double std = XavierStd(tensor, gain);
                return uniform_(tensor, -Math.Sqrt(3) * std, Math.Sqrt(3) * std, generator);
            }

            /// <summary>Glorot: N(0, std²) with std = gain·√(2/(fan_in + fan_out)).</summary>
            public static Tensor xavier_normal_(Tensor tensor, double gain = 1, Generator? generator = null) =>
                normal_(tensor, 0, XavierStd(tensor, gain), generator);

            private static double XavierStd(Tensor tensor, double gain)
            {
                (long fanIn, long fanOut) = calculate_fan_in_and_fan_out(tensor);
                return gain * Math.Sqrt(2.0 / (fanIn + fanOut));
            }

            /// <summary>He: U(−bound, bound) with bound = √3·gain/√fan, fan chosen by <paramref name="mode"/>
            /// ("fan_in" or "fan_out") and gain = calculate_gain(nonlinearity, a).</summary>
            public static Tensor kaiming_uniform_(Tensor tensor, double a = 0, string mode = "fan_in", string nonlinearity = "leaky_relu",
                Generator? generator = null)
            {
                double bound = Math.Sqrt(3) * KaimingStd(tensor, a, mode, nonlinearity);
                return uniform_(tensor, -bound, bound, generator);
            }

            /// <summary>He: N(0, std²) with std = gain/√fan (see <see cref="kaiming_uniform_"/>).</summary>
            public static Tensor kaiming_normal_(Tensor tensor, double a = 0, string mode = "fan_in", string nonlinearity = "leaky_relu",
                Generator? generator = null) =>
                normal_(tensor, 0, KaimingStd(tensor, a, mode, nonlinearity), generator);

            private static double KaimingStd(Tensor tensor, double a, string mode, string nonlinearity)
            {
                (long fanIn, long fanOut) = calculate_fan_in_and_fan_out(tensor);
                long fan = mode switch
                {
                    "fan_in" => fanIn,
                    "fan_out" => fanOut,
                    _ => throw new ArgumentException($"mode must be \"fan_in\" or \"fan_out\", got \"{mode}\"", nameof(mode)),
                };
                if (fan == 0) throw new ArgumentException($"kaiming init of a tensor with no elements (shape [{string.Join(", ", tensor.shape)}])", nameof(tensor));
                return calculate_gain(nonlinearity, a) / Math.Sqrt(fan);
            }

            /// <summary>
            /// A (semi-)orthogonal matrix times <paramref name="gain"/>: the tensor viewed as [rows, cols] (rows = size(0))
            /// gets orthonormal rows or columns, whichever are fewer. Drawn as the Q of a Gaussian matrix's QR with the
            /// signs of R's diagonal folded into Q, which makes Q Haar-distributed.
            /// </summary>
            public static Tensor orthogonal_(Tensor tensor, double gain = 1, Generator? generator = null)
            {
                if (tensor.dim() < 2)
                    throw new ArgumentException($"orthogonal_ needs a tensor with at least 2 dimensions, got shape [{string.Join(", ", tensor.shape)}]", nameof(tensor));
                if (tensor.numel() == 0) return tensor;
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                long rows = tensor.size(0), cols = tensor.numel() / rows;
                bool wide = rows < cols;
                // QR needs a tall matrix; float32 at least, since half types have no QR.
                ScalarType work = tensor.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
                Tensor gaussian = normal_(empty([Math.Max(rows, cols), Math.Min(rows, cols)], work, generator is null ? tensor.device : Device.CPU), generator: generator);
                Tensor[] qr = s_qr.CallMany(gaussian);
                Tensor q = qr[0].mul(qr[1].diagonal().sign());
                if (wide) q = q.t();
                tensor.copy_(q.mul(gain).reshape(tensor.shape));
                return tensor;
            }

            /// <summary>
            /// Semi-orthogonal init scaled by √(d_out/d_in) (Bernstein et al., 2023; the LTE paper's default): every
            /// singular value of the [d_out, d_in] matrix (d_out = size(0)) equals √(d_out/d_in), so the layer preserves
            /// the spectral scale of its input relative to its shape.
            /// </summary>
            public static Tensor semi_orthogonal_(Tensor tensor, Generator? generator = null)
            {
                if (tensor.dim() < 2)
                    throw new ArgumentException($"semi_orthogonal_ needs a tensor with at least 2 dimensions, got shape [{string.Join(", ", tensor.shape)}]", nameof(tensor));
                if (tensor.numel() == 0) return tensor;
                long dOut = tensor.size(0), dIn = tensor.numel() / dOut;
                return orthogonal_(tensor, Math.Sqrt((double)dOut / dIn), generator);
            }
        }
    }
}
