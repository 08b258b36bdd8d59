namespace LowRankBias.Torch;

public static partial class torch
{
    public static partial class nn
    {
        public static partial class functional
        {
            private static readonly Op s_sdpa = new("aten::scaled_dot_product_attention");

            // libtorch registers the fused operator from 2.0 on; 1.13 lacks it. Looked up once, at first use.
            private static readonly Lazy<bool> s_sdpaRegistered = new(() =>
            {
                try
                {
                    _ = s_sdpa.SchemaText;
                    return true;
                }
                catch (TorchException)
                {
                    return false;
                }
            });

            /// <summary>
            /// softmax(Q·Kᵀ/√d + mask)·V over the last two dimensions (…×L×d, …×S×d, …×S×d_v). A bool
            /// <paramref name="attn_mask"/> marks the key positions that may be attended (false → −∞); a float one is
            /// added to the scores. <paramref name="is_causal"/> lets position i attend only to keys j ≤ i (and excludes
            /// attn_mask). Dropout with <paramref name="dropout_p"/> is applied to the attention weights whenever p &gt; 0.
            /// Uses libtorch's fused operator where registered, else the explicit formula.
            /// </summary>
            public static Tensor scaled_dot_product_attention(Tensor query, Tensor key, Tensor value, Tensor? attn_mask = null,
                double dropout_p = 0.0, bool is_causal = false)
            {
                if (is_causal && attn_mask is not null)
                    throw new ArgumentException("pass either attn_mask or is_causal, not both", nameof(attn_mask));
                CheckProbability(dropout_p, nameof(dropout_p));
                return s_sdpaRegistered.Value
                    ? s_sdpa.Call(query, key, value, attn_mask, dropout_p, is_causal)
                    : ExplicitAttention(query, key, value, attn_mask, dropout_p, is_causal);
            }

            private static Tensor ExplicitAttention(Tensor query, Tensor key, Tensor value, Tensor? mask, double dropoutP, bool causal)
            {
                using DisposeScope scope = NewDisposeScope();
                Tensor scores = query.matmul(key.mT) / Math.Sqrt(query.size(-1));
                if (causal)
                {
                    Tensor lower = ones([query.size(-2), key.size(-2)], ScalarType.Bool, query.device).tril();
                    scores = scores.masked_fill(!lower, double.NegativeInfinity);
                }
                else if (mask is not null)
                {
                    scores = mask.dtype == ScalarType.Bool ? scores.masked_fill(!mask, double.NegativeInfinity) : scores + mask;
                }
                Tensor weights = scores.softmax(-1);
                if (dropoutP > 0) weights = dropout(weights, dropoutP, training: true);
                return weights.matmul(value).MoveToOuterDisposeScope();
            }
        }
    }
}
