"""PyTorch's LTE training step for benchmarks/compare/train_step.sh (model vit-tiny-lte), written the way the LTE paper
did it on one device: torch vmap (functorch's in torch 1.13) over N heads of a functional ViT-Tiny.

Every linear layer but the classifier carries N LoRA heads of rank r on a shared, frozen base weight; every other
parameter (biases, LayerNorm affine, class token, position embedding, patch projection, classifier) has one replica
per head, as our Lte with its default averaged replicas. Head n runs on group n of the cumulative batch (vmap over
heads), the loss is the sum of the heads' mean cross-entropies, AdamW (foreach) steps all heads' stacked tensors at
once (element-wise, so exactly N separate optimizers), the loss is read with .item() as our LteTrainer does, and
every T steps a merge folds W += s/N sum_n B_n A_n, zeroes B and averages the replicas.
Prints "vit-tiny-lte<TAB>ms/step" (median of `repeats` loops of `steps` steps, after warm-up).
vit-s-lte-merge times one merge of a ViT-S with 8 heads of rank 64 instead.
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    from torch.func import functional_call, vmap  # torch >= 2.0
except ImportError:  # torch 1.13
    from functorch import vmap
    from torch.nn.utils.stateless import functional_call

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_step_pytorch as models  # noqa: E402

HEADS, RANK, ALPHA, MERGE_EVERY = 4, 16, 4096.0, 10


class LoraLinear(nn.Module):
    """y = W x + b + s B A x with W frozen (shared by the heads) and A, B, b per head."""

    def __init__(self, linear, rank, scale):
        super().__init__()
        self.weight = nn.Parameter(linear.weight.detach().clone(), requires_grad=False)
        self.bias = nn.Parameter(linear.bias.detach().clone())
        self.lora_A = nn.Parameter(torch.empty(rank, linear.in_features))
        nn.init.orthogonal_(self.lora_A)
        self.lora_B = nn.Parameter(torch.zeros(linear.out_features, rank))
        self.scale = scale

    def forward(self, x):
        return F.linear(x, self.weight, self.bias) + F.linear(F.linear(x, self.lora_A) * self.scale, self.lora_B)


def lora_vit(rank=RANK, **config):
    vit = models.ViT(**config)
    for name, module in list(vit.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.Linear) and child is not vit.head:
                setattr(module, child_name, LoraLinear(child, rank, ALPHA / rank))
    return vit


def main():
    workload = sys.argv[1] if len(sys.argv) > 1 else "vit-tiny-lte"
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    torch.set_num_threads(models.intra_op_threads())
    torch.manual_seed(0)
    merge_only = workload == "vit-s-lte-merge"
    heads_count = 8 if merge_only else HEADS
    model = lora_vit(rank=64, width=384, depth=12, heads=6, mlp=1536) if merge_only else lora_vit()
    shared = {k: p for k, p in model.named_parameters() if not p.requires_grad}
    heads = {k: nn.Parameter(p.detach().unsqueeze(0).repeat(heads_count, *[1] * p.dim())) for k, p in model.named_parameters() if p.requires_grad}
    decay = [p for k, p in heads.items() if "lora_" in k]
    no_decay = [p for k, p in heads.items() if "lora_" not in k]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=1e-4, foreach=True)
    images, labels = torch.randn(batch, 1, 28, 28), torch.randint(0, 10, (batch,))
    groups, group_labels = images.view(HEADS, -1, 1, 28, 28), labels.view(HEADS, -1)

    def head_loss(params, x, y):
        return F.cross_entropy(functional_call(model, {**params, **shared}, (x,)), y)

    iteration = [0]

    @torch.no_grad()
    def merge():
        for name, module in model.named_modules():
            if isinstance(module, LoraLinear):
                a, b = heads[f"{name}.lora_A"], heads[f"{name}.lora_B"]
                module.weight += module.scale / heads_count * torch.einsum("nor,nri->oi", b, a)
                b.zero_()
        for k, p in heads.items():
            if "lora_" not in k:
                p.copy_(p.mean(0, keepdim=True).expand_as(p))

    def step():
        total = vmap(head_loss)(heads, groups, group_labels).sum()
        total.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss = total.item() / HEADS
        iteration[0] += 1
        if iteration[0] % MERGE_EVERY == 0:
            merge()
        return loss

    print(f"{workload}\t{models.timed(merge if merge_only else step, steps, repeats):.2f}")


if __name__ == "__main__":
    main()
