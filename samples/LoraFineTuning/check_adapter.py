"""Applies a PEFT LoRA adapter written by LowRankBias to a torchvision ViT in PyTorch — plain formula, no PEFT — and
checks that the logits equal the ones LowRankBias computed.

Usage:  /usr/bin/python3 check_adapter.py CHECKPOINT.pt RUN_DIR [--num-heads H]
        (RUN_DIR is the LoraFineTuning sample's output: adapter/ and roundtrip.safetensors)

For every adapted layer, W <- W + (lora_alpha / r) * B @ A (PEFT's merge for a Linear, no rslora): our ViT's
separate q, k, v projections are the three row blocks of torchvision's fused in_proj_weight, o is out_proj,
mlp.fc1 / mlp.fc2 are mlp.0 / mlp.3; the head (a module to save) replaces heads.head. Exits 1 if the logits differ
by more than 1e-4. Then loads finetuned_torchvision.pt (the merged model LowRankBias wrote in torch.save's format)
with torch.load(weights_only=True) into the same torchvision model and checks its logits too.
"""
import json
import math
import struct
import sys

import numpy as np
import torch
from torchvision.models.vision_transformer import VisionTransformer

DTYPES = {"F32": np.float32, "F64": np.float64}


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[begin:end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"]).copy())
    return out


def torchvision_target(path, sd):
    """(torchvision key, row slice or None) of one of our module paths, e.g. blocks.0.attn.q."""
    parts = path.split(".")
    if parts[0] == "head":
        return "heads.head.weight", None
    block, kind = f"encoder.layers.encoder_layer_{parts[1]}", ".".join(parts[2:])
    if kind in ("attn.q", "attn.k", "attn.v"):
        width = sd[f"{block}.self_attention.in_proj_weight"].shape[1]
        i = "qkv".index(kind[-1])
        return f"{block}.self_attention.in_proj_weight", slice(i * width, (i + 1) * width)
    return {"attn.o": f"{block}.self_attention.out_proj.weight", "mlp.fc1": f"{block}.mlp.0.weight",
            "mlp.fc2": f"{block}.mlp.3.weight"}[kind], None


def main():
    checkpoint, run = sys.argv[1], sys.argv[2]
    num_heads = int(sys.argv[sys.argv.index("--num-heads") + 1]) if "--num-heads" in sys.argv else None
    sd = torch.load(checkpoint, map_location="cpu")
    width = sd["class_token"].shape[2]
    patch = sd["conv_proj.weight"].shape[2]
    tokens = sd["encoder.pos_embedding"].shape[1]
    layers = len({k.split(".")[2] for k in sd if k.startswith("encoder.layers.")})
    model = VisionTransformer(image_size=int(math.isqrt(tokens - 1)) * patch, patch_size=patch, num_layers=layers,
                              num_heads=num_heads or width // 64, hidden_dim=width, mlp_dim=sd["encoder.layers.encoder_layer_0.mlp.0.weight"].shape[0],
                              num_classes=sd["heads.head.weight"].shape[0])
    model.load_state_dict(sd)

    config = json.load(open(f"{run}/adapter/adapter_config.json"))
    assert config["peft_type"] == "LORA" and not config.get("use_rslora") and not config["rank_pattern"] and not config["alpha_pattern"]
    scaling = config["lora_alpha"] / config["r"]
    adapter = load_safetensors(f"{run}/adapter/adapter_model.safetensors")
    prefix = "base_model.model."
    merged = 0
    with torch.no_grad():
        params = dict(model.named_parameters())
        for key, a in adapter.items():
            if not key.endswith(".lora_A.weight"):
                continue
            path = key[len(prefix):-len(".lora_A.weight")]
            b = adapter[f"{prefix}{path}.lora_B.weight"]
            target, rows = torchvision_target(path, sd)
            (params[target][rows] if rows else params[target]).add_(scaling * (b @ a))
            merged += 1
        for name in ("weight", "bias"):  # modules_to_save: the fine-tuned head replaces torchvision's
            params[f"heads.head.{name}"].copy_(adapter[f"{prefix}head.{name}"])
    reference = load_safetensors(f"{run}/roundtrip.safetensors")
    model.eval()
    with torch.no_grad():
        logits = model(reference["input"])
    error = (logits - reference["logits"]).abs().max().item()
    print(f"merged {merged} LoRA pairs (scaling {scaling}); max |PyTorch logits - LowRankBias logits| = {error:.3g} over {logits.numel()} values")

    # The merged model LowRankBias exported with torch.save's layout: torch.load (weights_only) + strict load_state_dict.
    model.load_state_dict(torch.load(f"{run}/finetuned_torchvision.pt", map_location="cpu", weights_only=True))
    with torch.no_grad():
        exported = (model(reference["input"]) - reference["logits"]).abs().max().item()
    print(f"finetuned_torchvision.pt via torch.load(weights_only=True): max |logits difference| = {exported:.3g}")
    sys.exit(0 if max(error, exported) < 1e-4 else 1)


if __name__ == "__main__":
    main()
