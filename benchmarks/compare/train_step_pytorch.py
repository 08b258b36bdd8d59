"""PyTorch eager's training step for the models of benchmarks/compare/train_step.sh, written to match ours exactly.

Run with Debian's python3-torch (the same libtorch as the C# library):
    /usr/bin/python3 train_step_pytorch.py MODEL [batch] [steps] [repeats]      MODEL: vit-tiny | cnn | resnet18 | vit-s-checkpoint
One step: forward, cross-entropy, backward, AdamW (foreach, decay off for 1-d parameters), zero_grad; the loss stays
on the device (no .item()). vit-s-checkpoint instead writes a ViT-S state dict with torch.save and reads it back with
torch.load into the model. Timed like the C# side: warm-up, then the median wall-clock ms/step of `repeats` loops
of `steps` steps, on OMP_NUM_THREADS intra-op threads when set, else every core (as our library). Prints
"MODEL<TAB>ms/step".
"""
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class SelfAttention(nn.Module):
    """Separate q, k, v and output projections, as LowRankBias.Torch.Modules.MultiheadSelfAttention."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads, self.head_dim = heads, width // heads
        self.q, self.k, self.v, self.o = (nn.Linear(width, width) for _ in range(4))

    def forward(self, x):
        n, length, width = x.shape
        q, k, v = (p(x).reshape(n, length, self.heads, self.head_dim).transpose(1, 2) for p in (self.q, self.k, self.v))
        if hasattr(F, "scaled_dot_product_attention"):
            h = F.scaled_dot_product_attention(q, k, v)
        else:  # torch 1.13: the explicit formula, as our fallback
            h = (q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)).softmax(-1) @ v
        return self.o(h.transpose(1, 2).reshape(n, length, width))


class Block(nn.Module):
    def __init__(self, width, heads, mlp):
        super().__init__()
        self.ln_1, self.attn = nn.LayerNorm(width, eps=1e-6), SelfAttention(width, heads)
        self.ln_2 = nn.LayerNorm(width, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(width, mlp), nn.GELU(), nn.Linear(mlp, width))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class ViT(nn.Module):
    """VisionTransformer.Config.ViT_Tiny: 28 px, patch 4, width 128, depth 4, 4 heads, MLP 256, 10 classes."""

    def __init__(self, image=28, patch=4, channels=1, classes=10, depth=4, heads=4, width=128, mlp=256):
        super().__init__()
        self.conv_proj = nn.Conv2d(channels, width, patch, stride=patch)
        self.class_token = nn.Parameter(torch.zeros(1, 1, width))
        self.pos_embedding = nn.Parameter(torch.randn(1, (image // patch) ** 2 + 1, width) * 0.02)
        self.blocks = nn.ModuleList(Block(width, heads, mlp) for _ in range(depth))
        self.ln, self.head = nn.LayerNorm(width, eps=1e-6), nn.Linear(width, classes)

    def forward(self, x):
        patches = self.conv_proj(x).flatten(2).transpose(1, 2)
        h = torch.cat([self.class_token.expand(x.shape[0], -1, -1), patches], 1) + self.pos_embedding
        for block in self.blocks:
            h = block(h)
        return self.head(self.ln(h)[:, 0])


class ConvNet(nn.Module):
    """ConvNet.Config.FashionMnist: 3x3 convolutions 1-64-128-256-512, max pooling, global max pool, FC 512-256-10."""

    def __init__(self, channels=(1, 64, 128, 256, 512), hidden=256, classes=10):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1) for a, b in zip(channels, channels[1:]))
        self.fc1, self.fc2 = nn.Linear(channels[-1], hidden), nn.Linear(hidden, classes)

    def forward(self, x):
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if i < len(self.convs) - 1:
                x = F.max_pool2d(x, 2)
            x = x.relu()
        return self.fc2(self.fc1(x.amax((-2, -1))).relu())


def resnet18():
    """torchvision's resnet18 (python3-torchvision) for 1-channel 28x28 images, as ResNet.resnet18(10, in_channels: 1)."""
    from torchvision.models import resnet18 as torchvision_resnet18
    model = torchvision_resnet18(num_classes=10)
    model.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    return model


def main():
    model_name = sys.argv[1]
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    torch.set_num_threads(intra_op_threads())
    torch.manual_seed(0)
    if model_name == "vit-s-checkpoint":
        vit_s = ViT(width=384, depth=12, heads=6, mlp=1536)
        path = f"/tmp/pytorch-checkpoint-{os.getpid()}.pt"

        def checkpoint():
            torch.save(vit_s.state_dict(), path)
            vit_s.load_state_dict(torch.load(path))

        try:
            print(f"{model_name}\t{timed(checkpoint, steps, repeats):.2f}")
        finally:
            os.remove(path)
        return
    model = {"vit-tiny": ViT, "cnn": ConvNet, "resnet18": resnet18}[model_name]()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=1e-3, foreach=True)
    images, labels = torch.randn(batch, 1, 28, 28), torch.randint(0, 10, (batch,))

    def step():
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.detach()

    print(f"{model_name}\t{timed(step, steps, repeats):.2f}")


def intra_op_threads():
    """OMP_NUM_THREADS when set, else every core: the count our library gives libtorch at start-up."""
    return int(os.environ.get("OMP_NUM_THREADS") or 0) or os.cpu_count()


def timed(run, steps, repeats):
    """Warm-up, then the median ms per run of `repeats` loops of `steps` runs (as the C# side)."""
    for _ in range(max(3, steps // 2)):
        run()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            run()
        samples.append((time.perf_counter() - start) / steps * 1e3)
    return statistics.median(samples)


if __name__ == "__main__":
    main()
