"""PyTorch's half of benchmarks/compare/twin.sh: trains the same model as our TwinRunner from the same initial weights
(init.safetensors) on the same data in the same order (data.safetensors), then compares its loss after every step with
ours (ours.csv). Exits 1 when any step's losses differ by more than the tolerance (relative).

grokking: Nanda et al.'s one-layer transformer written out as they do (no LayerNorm, learned embeddings, causal
attention with 4 heads and no biases, ReLU MLP with biases, unembedding at the "=" position), full-batch AdamW lr 1e-3,
betas (0.9, 0.98), weight decay 1 on every parameter, cross-entropy on float64 logits.
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

    def forward(self, x):
        n, length, width = x.shape

        def split(projection):
            return projection(x).reshape(n, length, self.heads, width // self.heads).transpose(1, 2)

        q, k, v = split(self.q), split(self.k), split(self.v)
        scores = q @ k.transpose(-2, -1) / math.sqrt(width // self.heads)
        causal = torch.ones(length, length, dtype=torch.bool).tril()
        weights = scores.masked_fill(~causal, float("-inf")).softmax(-1)
        return self.o((weights @ v).transpose(1, 2).reshape(n, length, width))


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

    def forward(self, x):
        h = x + self.attn(x)
        return h + self.mlp(h)


class GrokkingTransformer(nn.Module):
    def __init__(self, p=113, width=128, heads=4, hidden=512, context=3):
        super().__init__()
        self.embed, self.pos_embed = nn.Embedding(p + 1, width), nn.Embedding(context, width)
        self.blocks = nn.ModuleList([Block(width, heads, hidden)])
        self.unembed = nn.Linear(width, p, bias=False)

    def forward(self, tokens):
        h = self.embed(tokens) + self.pos_embed(torch.arange(tokens.shape[1]))
        for block in self.blocks:
            h = block(h)
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


def main():
    workload, directory = sys.argv[1], sys.argv[2]
    tolerance = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-4
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
    with open(os.path.join(directory, "ours.csv")) as f:
        ours = [float(row["loss"]) for row in csv.DictReader(f)]
    step = {"grokking": grokking}[workload](directory)
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
    print(f"{workload}: {len(ours)} steps, losses {verdict}: largest relative difference {worst:.2e} at step {worst_step} "
          f"(tolerance {tolerance:g}); first loss {ours[0]:.6f}, last ours {ours[-1]:.6f}")
    sys.exit(0 if worst <= tolerance else 1)


if __name__ == "__main__":
    main()
