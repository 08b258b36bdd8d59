using LowRankBias.Torch.Modules;
using static LowRankBias.Onnx.Export.ExportGraph;

namespace LowRankBias.Onnx.Export;

/// <summary>Emitters of the transformer parts: MultiheadSelfAttention (causal or not, no mask), TransformerBlock, MlpBlock.</summary>
internal static class TransformerEmitters
{
    public static IEnumerable<(Type type, Emitter emit)> All =>
    [
        ExportContext.On<MultiheadSelfAttention>(Attention),
        ExportContext.On<TransformerBlock>((c, m, p, x) =>
        {
            string h = c.Graph.Node("Add", p, [x, c.Child(m.drop, p, "drop", c.Child(m.attn, p, "attn", c.Child(m.ln_1, p, "ln_1", x)))]);
            return c.Graph.Node("Add", p, [h, c.Child(m.mlp, p, "mlp", c.Child(m.ln_2, p, "ln_2", h))]);
        }),
        ExportContext.On<MlpBlock>((c, m, p, x) =>
        {
            string hidden = c.Child(m.drop, p, "drop", c.Child(m.act, p, "act", c.Child(m.fc1, p, "fc1", x)));
            return c.Child(m.drop, p, "drop", c.Child(m.fc2, p, "fc2", hidden));
        }),
    ];

    // softmax(q kᵀ / √d [+ −∞ above the diagonal]) v per head, as scaled_dot_product_attention computes it.
    private static string Attention(ExportContext c, MultiheadSelfAttention m, string p, string x)
    {
        ExportGraph g = c.Graph;
        string Heads(Module projection, string name) => g.Node("Transpose", p,
            [g.Node("Reshape", p, [c.Child(projection, p, name, x), g.Ints([0, 0, m.num_heads, m.head_dim])], 4)], 4, Attr("perm", 0, 2, 1, 3));
        string q = Heads(m.q, "q"), k = Heads(m.k, "k"), v = Heads(m.v, "v");
        string scores = g.Node("Mul", p, [g.Node("MatMul", p, [q, g.Node("Transpose", p, [k], 4, Attr("perm", 0, 1, 3, 2))]), g.Float((float)(1 / Math.Sqrt(m.head_dim)))]);
        if (m.is_causal)
        {
            string length = g.Node("Gather", p, [g.Node("Shape", p, [x], 1), g.Ints([1], scalar: true)], 0);
            string positions = g.Node("Range", p, [g.Ints([0], scalar: true), length, g.Ints([1], scalar: true)], 1);
            string future = g.Node("Greater", p, [g.Node("Unsqueeze", p, [positions, g.Ints([0])], 2), g.Node("Unsqueeze", p, [positions, g.Ints([1])], 2)]);
            scores = g.Node("Where", p, [future, g.Float(float.NegativeInfinity), scores]);
        }
        string heads = g.Node("MatMul", p, [g.Node("Softmax", p, [scores], null, Attr("axis", -1L)), v]);
        string merged = g.Node("Reshape", p, [g.Node("Transpose", p, [heads], 4, Attr("perm", 0, 2, 1, 3)), g.Ints([0, 0, m.embed_dim])], 3);
        return c.Child(m.o, p, "o", merged);
    }
}
