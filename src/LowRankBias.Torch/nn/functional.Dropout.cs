namespace LowRankBias.Torch;

public static partial class torch
{
    public static partial class nn
    {
        public static partial class functional
        {
            private static readonly Op s_dropout = new("aten::dropout");

            /// <summary>
            /// When <paramref name="training"/>, zeroes each element with probability p and scales the rest by 1/(1 − p);
            /// otherwise returns the input unchanged (as a new handle).
            /// </summary>
            public static Tensor dropout(Tensor input, double p = 0.5, bool training = true)
            {
                CheckProbability(p, nameof(p));
                return s_dropout.Call(input, p, training);
            }

            private static void CheckProbability(double p, string name)
            {
                if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(name, p, "dropout probability has to be between 0 and 1");
            }
        }
    }
}
