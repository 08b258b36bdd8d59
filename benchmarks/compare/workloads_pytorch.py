"""PyTorch twins of the smaller workloads of benchmarks/compare/train_step.sh, written the plain PyTorch way.

    /usr/bin/python3 workloads_pytorch.py WORKLOAD [batch] [steps] [repeats]     WORKLOAD: vit-s-spectra | mhlora-step
vit-s-spectra: torch.linalg.svdvals of every ViT-S weight matrix (the patch projection flattened to out x in), then
  effective rank exp(H(s / sum s)), stable rank ||W||_F^2 / ||W||_2^2, nuclear, Frobenius and spectral norms and the
  condition number, read to the host as our SpectralMetrics does.
mhlora-step: one 384 -> 384 linear layer with 8 LoRA heads of rank 8 (A [N, r, in], B [N, out, r], scale s/N) on a
  shared batch of 1024 rows: forward, MSE, backward, AdamW (foreach) on the factors, zero_grad.
Prints "WORKLOAD<TAB>ms" (median of `repeats` loops of `steps` runs after warm-up, every core).
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_step_pytorch as models  # noqa: E402


def spectra():
    vit = models.ViT(width=384, depth=12, heads=6, mlp=1536)
    weights = [p.detach().flatten(1) for p in vit.parameters() if p.dim() >= 2 and p.shape[0] > 1]

    def run():
        out = []
        for w in weights:
            s = torch.linalg.svdvals(w).double()
            p = s / s.sum()
            entropy = -(p * p.clamp_min(1e-300).log()).sum()
            fro, spectral = s.norm(), s[0]
            out.append(torch.stack([entropy.exp(), (fro / spectral) ** 2, s.sum(), fro, spectral, spectral / s[-1]]).tolist() + s.tolist())
        return out

    return run


def mhlora_step():
    heads, rank, width, scale = 8, 8, 384, 16.0 / 8
    base = nn.Linear(width, width).requires_grad_(False)
    a = nn.Parameter(torch.randn(heads, rank, width) / width ** 0.5)
    b = nn.Parameter(torch.randn(heads, width, rank) / rank ** 0.5)
    optimizer = torch.optim.AdamW([a, b], foreach=True)
    x, y = torch.randn(1024, width), torch.randn(1024, width)

    def run():
        down = x @ a.reshape(heads * rank, width).t()
        out = base(x) + (down * (scale / heads)) @ b.permute(1, 0, 2).reshape(width, heads * rank).t()
        F.mse_loss(out, y).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return run


def main():
    workload = sys.argv[1]
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    torch.set_num_threads(models.intra_op_threads())
    torch.manual_seed(0)
    run = {"vit-s-spectra": spectra, "mhlora-step": mhlora_step}[workload]()
    print(f"{workload}\t{models.timed(run, steps, repeats):.2f}")


if __name__ == "__main__":
    main()
