"""PyTorch's half of benchmarks/compare/twin.sh: trains the same model as our TwinRunner from the same initial weights
(init.safetensors) on the same data in the same order (data.safetensors), then compares its loss after every step with
ours (ours.csv). Exits 1 when any step's losses differ by more than the tolerance (relative).

grokking: Nanda et al.'s one-layer transformer written out as they do (no LayerNorm, learned embeddings, causal
attention with 4 heads and no biases, ReLU MLP with biases, unembedding at the "=" position), full-batch AdamW lr 1e-3,
betas (0.9, 0.98), weight decay 1 on every parameter, cross-entropy on float64 logits.
Only the "=" position is read out, so the block computes that position alone (as our model does): every float32 sum
then has the same length and order on both sides, and the losses agree bit for bit. Computing all three positions gives
the same function but other GEMM shapes; the first loss then differs by 1e-10 and full-batch AdamW amplifies that
rounding past 1e-4 by step 56 (TWIN_ALL_POSITIONS=1 shows it).
vit-tiny-lte: lte_step_pytorch's VmapLte (the LTE paper's one-device LTE: vmap over 4 heads of a functional ViT-Tiny
with rank-16 LoRA on every Linear but the classifier, per-head replicas of every other parameter, AdamW lr 1e-4 with
weight decay 0.05 on the factors only, merge every 10 steps), each head's A and B and the shared weights loaded from
ours; batch 128, one new batch per step.
TWIN_DTYPE=float64 (both sides) tells float32 rounding amplified by the optimiser from a real difference.
Usage: twin_pytorch.py WORKLOAD DIR [tolerance]
"""
import csv
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32, "BOOL": torch.bool}


def load_safetensors(path):
    """The tensors of a safetensors file (8-byte little-endian header length, JSON header, raw little-endian data)."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        flat = torch.frombuffer(bytearray(data[begin:end]), dtype=DTYPES[info["dtype"]]) if end > begin else torch.empty(0, dtype=DTYPES[info["dtype"]])
        tensors[name] = flat.reshape(info["shape"]).clone()
    return tensors


class Attention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(width, width, bias=False) for _ in range(4))

    def forward(self, x, last_only):
        n, length, width = x.shape

        def split(projection, inputs):
            return projection(inputs).reshape(n, inputs.shape[1], self.heads, width // self.heads).transpose(1, 2)

        queries = x[:, -1:] if last_only else x
        q, k, v = split(self.q, queries), split(self.k, x), split(self.v, x)
        scores = q @ k.transpose(-2, -1) / math.sqrt(width // self.heads)
        if not last_only:  # the last position attends to every position anyway
            causal = torch.ones(length, length, dtype=torch.bool).tril()
            scores = scores.masked_fill(~causal, float("-inf"))
        weights = scores.softmax(-1)
        return self.o((weights @ v).transpose(1, 2).reshape(n, queries.shape[1], width))


class Mlp(nn.Module):
    def __init__(self, width, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(width, hidden), nn.Linear(hidden, width)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, width, heads, hidden):
        super().__init__()
        self.attn, self.mlp = Attention(width, heads), Mlp(width, hidden)

    def forward(self, x, last_only):
        # Attention before the residual's slice, as ours: autograd sums x's four gradients in node-creation order.
        attended = self.attn(x, last_only)
        h = (x[:, -1:] if last_only else x) + attended
        return h + self.mlp(h)


class GrokkingTransformer(nn.Module):
    def __init__(self, p=113, width=128, heads=4, hidden=512, context=3):
        super().__init__()
        self.embed, self.pos_embed = nn.Embedding(p + 1, width), nn.Embedding(context, width)
        self.blocks = nn.ModuleList([Block(width, heads, hidden)])
        self.unembed = nn.Linear(width, p, bias=False)

    def forward(self, tokens):
        h = self.embed(tokens) + self.pos_embed(torch.arange(tokens.shape[1]))
        for i, block in enumerate(self.blocks):
            h = block(h, last_only=i == len(self.blocks) - 1 and os.environ.get("TWIN_ALL_POSITIONS") != "1")
        return self.unembed(h[:, -1])


def grokking(directory):
    model = GrokkingTransformer().to(DTYPES["F64"] if os.environ.get("TWIN_DTYPE") == "float64" else DTYPES["F32"])
    model.load_state_dict(load_safetensors(os.path.join(directory, "init.safetensors")), strict=True)
    data = load_safetensors(os.path.join(directory, "data.safetensors"))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98), weight_decay=1.0)

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(data["x"]).to(torch.float64), data["y"])
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def vit_tiny_lte(directory):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import lte_step_pytorch

    dtype = torch.float64 if os.environ.get("TWIN_DTYPE") == "float64" else torch.float32
    model = lte_step_pytorch.lora_vit().to(dtype)
    # Ours names the MLP's layers fc1 and fc2; the ViT here is an nn.Sequential (0, GELU, 2).
    init = {k.replace(".mlp.fc1.", ".mlp.0.").replace(".mlp.fc2.", ".mlp.2."): v
            for k, v in load_safetensors(os.path.join(directory, "init.safetensors")).items()}
    factors = {k: init.pop(k) for k in [k for k in init if ".lora_" in k]}
    missing, unexpected = model.load_state_dict(init, strict=False)
    assert not unexpected and all(".lora_" in k for k in missing), (missing, unexpected)
    lte = lte_step_pytorch.VmapLte(model)  # every replica starts at the shared value, as ours
    assert factors.keys() == {k for k in lte.heads if ".lora_" in k}, factors.keys() ^ lte.heads.keys()
    with torch.no_grad():
        for k, value in factors.items():
            lte.heads[k].copy_(value)
    data = load_safetensors(os.path.join(directory, "data.safetensors"))
    batches = zip(data["x"].split(128), data["y"].split(128))
    return lambda: lte.step(*next(batches))


def main():
    workload, directory = sys.argv[1], sys.argv[2]
    tolerance = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-4
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
    with open(os.path.join(directory, "ours.csv")) as f:
        ours = [float(row["loss"]) for row in csv.DictReader(f)]
    step = {"grokking": grokking, "vit-tiny-lte": vit_tiny_lte}[workload](directory)
    worst, worst_step = 0.0, 0
    with open(os.path.join(directory, "pytorch.csv"), "w", buffering=1) as out:
        out.write("step,ours,pytorch,relative_difference\n")
        for i, our_loss in enumerate(ours, 1):
            theirs = step()
            difference = abs(our_loss - theirs) / abs(theirs)
            out.write(f"{i},{our_loss!r},{theirs!r},{difference:.3e}\n")
            if difference > worst:
                worst, worst_step = difference, i
    verdict = "agree" if worst <= tolerance else "DISAGREE"
    largest = f"largest relative difference {worst:.2e} at step {worst_step}" if worst > 0 else "bit for bit at every step"
    print(f"{workload}: {len(ours)} steps, losses {verdict}: {largest} (tolerance {tolerance:g}); "
          f"first loss {ours[0]:.6f}, last ours {ours[-1]:.6f}")
    sys.exit(0 if worst <= tolerance else 1)


if __name__ == "__main__":
    main()
