namespace LowRankBias.Torch.Models;

/// <summary>How a Vision Transformer checkpoint names its parameters (see <see cref="VisionTransformer.from_pretrained"/>).</summary>
public enum VitLayout
{
    /// <summary>This library's own names (<c>blocks.N.attn.q</c>, <c>blocks.N.mlp.fc1</c>, <c>head</c>, …), as <see cref="Modules.Module.state_dict"/> writes them.</summary>
    Native,

    /// <summary>torchvision's <c>VisionTransformer</c>: <c>encoder.layers.encoder_layer_N.self_attention.in_proj_weight</c> (q, k, v fused), <c>mlp.0</c>/<c>mlp.3</c>, <c>heads.head</c>.</summary>
    Torchvision,

    /// <summary>timm's <c>VisionTransformer</c> with a class token: <c>blocks.N.norm1</c>, <c>attn.qkv</c> (fused), <c>attn.proj</c>, <c>mlp.fc1</c>, <c>norm</c>, <c>head</c>.</summary>
    Timm,

    /// <summary>Hugging Face's <c>ViTForImageClassification</c>: <c>vit.encoder.layer.N.attention.attention.query</c>, <c>intermediate.dense</c>, <c>classifier</c>.</summary>
    HuggingFace,
}
